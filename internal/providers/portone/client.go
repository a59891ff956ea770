package portone

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/billingd/billingd/internal/providers"
)

// DefaultBaseURL is PortOne's production API host.
const DefaultBaseURL = "https://api.portone.io"

// maxReplyBytes bounds how much of a reply is read; a payment with its
// cancellations is a few KiB.
const maxReplyBytes = 1 << 20

// Config configures one Client, bound to one PortOne V2 store.
type Config struct {
	// BaseURL is the API root; empty means DefaultBaseURL. A path prefix is
	// kept (a sandbox mounted at http://host/sandbox/portone works).
	BaseURL string
	// APISecret is the store's V2 API secret, sent as
	// "Authorization: PortOne <secret>" on every call.
	APISecret string
	// StoreID goes along where the API takes it (query or body). Empty
	// means the secret's own store.
	StoreID string
	// ChannelKey is the default channel: billing keys issued over REST are
	// issued on it.
	ChannelKey string
	// HTTPClient sends every request; nil means a client with a 5 s dial
	// timeout and a 60 s total timeout (PortOne recommends reading for at
	// least 60 s). Redirects are never followed.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now. Used for schedule lookups.
	Now func() time.Time
}

// Client talks to PortOne V2 for one store. It is safe for concurrent use
// and keeps no state: the API secret is the credential, there is no token.
type Client struct {
	base       string
	secret     string
	storeID    string
	channelKey string
	hc         *http.Client
	now        func() time.Time
}

var (
	_ providers.Provider  = (*Client)(nil)
	_ providers.Scheduler = (*Client)(nil)
)

// New returns a Client for cfg.
func New(cfg Config) (*Client, error) {
	if strings.TrimSpace(cfg.APISecret) == "" {
		return nil, errors.New("portone: APISecret is required")
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("portone: BaseURL %q is not an http(s) URL", base)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        256,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 5 * time.Second,
		}}
	}
	own := *hc
	own.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Client{base: strings.TrimRight(base, "/"), secret: cfg.APISecret, storeID: cfg.StoreID,
		channelKey: cfg.ChannelKey, hc: &own, now: now}, nil
}

// Name returns "portone".
func (c *Client) Name() string { return providers.Portone }

// request is one API call.
type request struct {
	op     string
	method string
	path   string // escaped, relative to the base URL
	query  url.Values
	body   any
	// lookup: a *_NOT_FOUND answer is ErrNotFound rather than ErrRejected.
	lookup bool
	// secrets are scrubbed from any text that ends up in an error (card data).
	secrets []string
}

// reply is what came back, before interpretation.
type reply struct {
	status int
	raw    []byte
	typed  bool // the body is a PortOne error object {"type", …}
	err    wireError
}

// wireError is PortOne's error body. Types are UPPER_SNAKE; PG_PROVIDER
// adds the PG's own code and message.
type wireError struct {
	Type      string `json:"type"`
	Message   string `json:"message"`
	PGCode    string `json:"pgCode"`
	PGMessage string `json:"pgMessage"`
}

// call performs one HTTP exchange. It never repeats a request: there is no
// token to refresh, and net/http does not replay a POST without an
// Idempotency-Key (which is deliberately not sent, for that reason).
func (c *Client) call(ctx context.Context, req request) (reply, error) {
	var body io.Reader
	if req.body != nil {
		b, err := json.Marshal(req.body)
		if err != nil {
			return reply{}, c.fail(req, providers.ErrRejected, fmt.Errorf("encode request: %w", err))
		}
		body = bytes.NewReader(b)
	}
	target := c.base + req.path
	if len(req.query) > 0 {
		target += "?" + req.query.Encode()
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, target, body)
	if err != nil {
		return reply{}, c.fail(req, providers.ErrRejected, err)
	}
	hr.Header.Set("Accept", "application/json")
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	hr.Header.Set("Authorization", "PortOne "+c.secret)
	resp, err := c.hc.Do(hr)
	if err != nil {
		return reply{}, c.fail(req, providers.ErrUnknown, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes+1))
	if err != nil {
		return reply{}, c.fail(req, providers.ErrUnknown, fmt.Errorf("read reply (HTTP %d): %w", resp.StatusCode, err))
	}
	rep := reply{status: resp.StatusCode, raw: raw}
	if len(raw) > maxReplyBytes {
		rep.raw = nil
		return rep, nil
	}
	if resp.StatusCode != http.StatusOK {
		var we wireError
		if json.Unmarshal(raw, &we) == nil && we.Type != "" {
			rep.typed, rep.err = true, we
		}
	}
	return rep, nil
}

// classify maps a reply to an error by the rules every call shares; Charge
// and the billing-key calls refine PG_PROVIDER and ALREADY_PAID.
//
//	200                                  → nil (the body is decoded by the caller)
//	UNAUTHORIZED, FORBIDDEN              → ErrAuth
//	*_NOT_FOUND on a lookup              → ErrNotFound
//	IDEMPOTENCY_OUTSTANDING_REQUEST      → ErrUnknown (the first is still running)
//	any other typed 4xx, PG_PROVIDER,    → ErrRejected
//	CHANNEL_SPECIFIC
//	5xx or 502 without a type, 3xx,      → ErrUnknown
//	other 2xx, an unreadable body
func (c *Client) classify(req request, rep reply) error {
	switch {
	case rep.status == http.StatusOK:
		return nil
	case !rep.typed:
		return c.fail(req, providers.ErrUnknown, fmt.Errorf("HTTP %d without a PortOne error", rep.status))
	}
	t := rep.err.Type
	switch {
	case t == "UNAUTHORIZED" || t == "FORBIDDEN":
		return c.pgError(req, providers.ErrAuth, rep)
	case req.lookup && strings.HasSuffix(t, "_NOT_FOUND"):
		return c.pgError(req, providers.ErrNotFound, rep)
	case t == "IDEMPOTENCY_OUTSTANDING_REQUEST":
		return c.pgError(req, providers.ErrUnknown, rep)
	case rep.status >= 400 && rep.status < 500, t == "PG_PROVIDER", t == "CHANNEL_SPECIFIC":
		return c.pgError(req, providers.ErrRejected, rep)
	}
	// A typed 5xx other than the PG's refusals (an INTERNAL_SERVER_ERROR
	// type is not documented, but would mean the same): not known.
	return c.pgError(req, providers.ErrUnknown, rep)
}

// pgError builds an error from PortOne's error body. PG_PROVIDER carries
// the PG's own code and message, which is what a merchant needs to see;
// every other type is its own code.
func (c *Client) pgError(req request, kind error, rep reply) *providers.Error {
	e := &providers.Error{Kind: kind, Provider: providers.Portone, Op: req.op, PGCode: rep.err.Type,
		PGMessage: c.scrub(req, rep.err.Message), Err: fmt.Errorf("HTTP %d %s", rep.status, rep.err.Type)}
	if rep.err.Type == "PG_PROVIDER" && (rep.err.PGCode != "" || rep.err.PGMessage != "") {
		e.PGCode, e.PGMessage = c.scrub(req, rep.err.PGCode), c.scrub(req, rep.err.PGMessage)
	}
	return e
}

// fail builds an error around a local or transport failure.
func (c *Client) fail(req request, kind error, err error) *providers.Error {
	return &providers.Error{Kind: kind, Provider: providers.Portone, Op: req.op, Err: scrubbed{err, c.scrub(req, err.Error())}}
}

// invalid reports a request refused locally, before anything was sent.
func (c *Client) invalid(op, msg string) error {
	return &providers.Error{Kind: providers.ErrRejected, Provider: providers.Portone, Op: op, Err: errors.New(msg)}
}

// scrub removes the API secret and the request's secrets from s.
func (c *Client) scrub(req request, s string) string {
	for _, sec := range append([]string{c.secret}, req.secrets...) {
		if len(sec) >= 4 && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}

// scrubbed keeps the original error for errors.Is while showing scrubbed text.
type scrubbed struct {
	err  error
	text string
}

func (s scrubbed) Error() string { return s.text }
func (s scrubbed) Unwrap() error { return s.err }

// decode unmarshals a 200 reply; an undecodable one is an unreadable reply,
// so ErrUnknown.
func (c *Client) decode(req request, rep reply, v any) error {
	if len(rep.raw) == 0 {
		return c.fail(req, providers.ErrUnknown, errors.New("empty reply"))
	}
	if err := json.Unmarshal(rep.raw, v); err != nil {
		return c.fail(req, providers.ErrUnknown, fmt.Errorf("decode reply: %w", err))
	}
	return nil
}

// storeQuery is the storeId query parameter, when configured.
func (c *Client) storeQuery() url.Values {
	if c.storeID == "" {
		return nil
	}
	return url.Values{"storeId": {c.storeID}}
}
