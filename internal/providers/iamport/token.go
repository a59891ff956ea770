package iamport

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/billingd/billingd/internal/providers"
)

const (
	// refreshMargin: a token with less life left than this is refreshed
	// before use. Iamport answers a getToken in a token's last minute with
	// the same token, extended by 5 minutes, so refreshing inside that
	// window never invalidates a token another replica is using.
	refreshMargin = 60 * time.Second
	// tokenFetchTimeout bounds a shared getToken even when the HTTP client
	// has no timeout of its own.
	tokenFetchTimeout = 30 * time.Second
)

// token is one access token as Iamport issued it.
type token struct {
	value string
	// expires is the expiry on Iamport's clock.
	expires time.Time
	// offset is Iamport's clock minus ours when the token arrived. Remaining
	// life is measured on Iamport's clock (our clock + offset), so a skewed
	// local clock neither wastes tokens nor uses expired ones.
	offset time.Duration
}

func (t *token) fresh(localNow time.Time) bool {
	return t.expires.Sub(localNow.Add(t.offset)) >= refreshMargin
}

// tokenCache holds the account's current token. Reads are lock-free; fetches
// are shared through singleflight so any number of concurrent callers cause
// one getToken.
type tokenCache struct {
	cur   atomic.Pointer[token]
	group singleflight.Group
	calls atomic.Int64
}

func (tc *tokenCache) current() string {
	if t := tc.cur.Load(); t != nil {
		return t.value
	}
	return ""
}

// invalidate drops the cached token if it is still value, which Iamport
// has just refused.
func (tc *tokenCache) invalidate(value string) {
	if t := tc.cur.Load(); t != nil && t.value == value {
		tc.cur.CompareAndSwap(t, nil)
	}
}

// TokenCalls reports how many getToken requests this Client has sent.
func (c *Client) TokenCalls() int64 { return c.tok.calls.Load() }

// accessToken returns a token with at least refreshMargin of life left.
// stale, when not empty, is a token Iamport has just refused: it is not
// returned again unless Iamport itself hands it back.
func (c *Client) accessToken(ctx context.Context, stale string) (string, error) {
	usable := func() (*token, bool) {
		t := c.tok.cur.Load()
		return t, t != nil && t.value != stale && t.fresh(c.now())
	}
	if t, ok := usable(); ok {
		return t.value, nil
	}
	ch := c.tok.group.DoChan("token", func() (any, error) {
		// Another flight may have finished between our check and this one.
		if t, ok := usable(); ok {
			return t, nil
		}
		// Detached from the first caller's context: one impatient caller
		// must not fail the others that share this fetch.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tokenFetchTimeout)
		defer cancel()
		t, err := c.fetchToken(fctx)
		if err != nil {
			return nil, err
		}
		c.tok.cur.Store(t)
		return t, nil
	})
	select {
	case <-ctx.Done():
		return "", c.fail(request{op: "get token"}, providers.ErrUnknown, ctx.Err())
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		return r.Val.(*token).value, nil
	}
}

// getTokenRequest is the body of POST /users/getToken.
type getTokenRequest struct {
	ImpKey    string `json:"imp_key"`
	ImpSecret string `json:"imp_secret"`
}

// fetchToken calls POST /users/getToken. A 401 (or any refusal with an
// envelope) is ErrAuth; transport trouble is ErrUnknown.
func (c *Client) fetchToken(ctx context.Context) (*token, error) {
	c.tok.calls.Add(1)
	req := request{op: "get token", method: http.MethodPost, path: "/users/getToken",
		body: getTokenRequest{ImpKey: c.key, ImpSecret: c.secret}}
	rep, err := c.send(ctx, req, "")
	if err != nil {
		return nil, err
	}
	received := c.now()
	if err := c.classify(req, rep); err != nil {
		pe, _ := providers.AsError(err)
		if rep.enveloped && rep.status < 500 {
			pe.Kind = providers.ErrAuth // bad or missing credentials, whatever the status
		}
		return nil, pe
	}
	var w wireToken
	if err := c.decode(req, rep, &w); err != nil {
		return nil, err
	}
	now, err1 := whole(w.Now)
	exp, err2 := whole(w.ExpiredAt)
	if w.AccessToken == "" || err1 != nil || err2 != nil || exp <= now {
		return nil, c.fail(req, providers.ErrUnknown, errors.New("getToken reply lacks a usable token"))
	}
	return &token{
		value:   w.AccessToken,
		expires: time.Unix(exp, 0),
		offset:  time.Unix(now, 0).Sub(received),
	}, nil
}
