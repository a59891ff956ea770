package bootpay

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/billingd/billingd/internal/providers"
)

// Bootpay access tokens live 30 minutes. Asking again within 25 minutes
// returns the same token; after that a fresh one is issued while the old
// one stays valid for its last ~5 minutes (reference §2). The cache
// therefore re-fetches 25 minutes after a fetch, so a cached token always
// has ≥ 5 minutes left when a call starts.
const (
	tokenLifetime = 30 * time.Minute
	tokenReuse    = 25 * time.Minute
	tokenMargin   = tokenLifetime - tokenReuse
	// tokenTimeout bounds a token fetch, which runs detached from the
	// caller that started it so that one caller's cancellation does not
	// fail the others waiting on the same fetch.
	tokenTimeout = 30 * time.Second
)

type tokenCache struct {
	mu         sync.Mutex
	value      string
	reuseUntil time.Time
	flight     singleflight.Group
	calls      atomic.Int64
}

func (t *tokenCache) get(now time.Time) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.value != "" && now.Before(t.reuseUntil) {
		return t.value, true
	}
	return "", false
}

func (t *tokenCache) set(v string, until time.Time) {
	t.mu.Lock()
	t.value, t.reuseUntil = v, until
	t.mu.Unlock()
}

// invalidate drops tok if it is still the cached one; a newer token fetched
// meanwhile by another caller is kept.
func (t *tokenCache) invalidate(tok string) {
	t.mu.Lock()
	if t.value == tok {
		t.value, t.reuseUntil = "", time.Time{}
	}
	t.mu.Unlock()
}

// TokenCalls returns how many token requests this Client has sent.
func (c *Client) TokenCalls() int64 { return c.tok.calls.Load() }

// token returns a usable access token, fetching one when the cache has
// none. Concurrent callers share one fetch.
func (c *Client) token(ctx context.Context) (string, error) {
	if v, ok := c.tok.get(c.now()); ok {
		return v, nil
	}
	ch := c.tok.flight.DoChan("token", func() (any, error) {
		if v, ok := c.tok.get(c.now()); ok {
			return v, nil
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tokenTimeout)
		defer cancel()
		return c.fetchToken(fctx)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		return r.Val.(string), nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

type tokenRequest struct {
	ApplicationID string `json:"application_id"`
	PrivateKey    string `json:"private_key"`
}

// v2: {access_token, expire_in}.
type v2Token struct {
	AccessToken string  `json:"access_token"`
	ExpireIn    flexInt `json:"expire_in"`
}

// v1: envelope data {token, server_time, expired_at} (unix seconds).
type v1Token struct {
	Token      string  `json:"token"`
	ServerTime flexInt `json:"server_time"`
	ExpiredAt  flexInt `json:"expired_at"`
}

func (c *Client) fetchToken(ctx context.Context) (string, error) {
	cl := call{op: "token", method: http.MethodPost, path: "/request/token", route: "/request/token", noAuth: true,
		body: tokenRequest{ApplicationID: c.appID, PrivateKey: c.privateKey}}
	fetchedAt := c.now()
	c.tok.calls.Add(1)
	var (
		value    string
		lifetime time.Duration
		err      error
	)
	if c.v1 {
		var t v1Token
		err = c.send(ctx, cl, &t)
		value = t.Token
		if t.ExpiredAt > t.ServerTime && t.ServerTime > 0 {
			lifetime = time.Duration(t.ExpiredAt-t.ServerTime) * time.Second
		}
	} else {
		var t v2Token
		err = c.send(ctx, cl, &t)
		value = t.AccessToken
		lifetime = time.Duration(t.ExpireIn) * time.Second
	}
	if err != nil {
		// Any refusal of the token request is a refusal of our
		// credentials (wrong key, unknown application, IP not allowed).
		if pe, ok := providers.AsError(err); ok && (errors.Is(pe.Kind, providers.ErrRejected) || errors.Is(pe.Kind, providers.ErrNotFound)) {
			pe.Kind = providers.ErrAuth
		}
		return "", err
	}
	if value == "" {
		return "", c.fail(cl, providers.ErrUnknown, "", "token reply without a token", nil)
	}
	c.tok.set(value, fetchedAt.Add(reuseFor(lifetime)))
	return value, nil
}

// reuseFor is how long a token with the given lifetime is reused: 25 of 30
// minutes, or proportionally less when the server announces a shorter
// lifetime.
func reuseFor(lifetime time.Duration) time.Duration {
	if lifetime <= 0 {
		return tokenReuse
	}
	return min(tokenReuse, max(lifetime-tokenMargin, lifetime/2))
}
