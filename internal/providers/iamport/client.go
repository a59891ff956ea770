package iamport

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
	"strconv"
	"strings"
	"time"

	"github.com/billingd/billingd/internal/providers"
)

// DefaultBaseURL is Iamport's production API host.
const DefaultBaseURL = "https://api.iamport.kr"

// maxReplyBytes bounds how much of a reply is read; Iamport's largest replies
// (a payment with its cancel history) are a few KiB.
const maxReplyBytes = 1 << 20

// Config configures one Client, bound to one Iamport account.
type Config struct {
	// BaseURL is the API root; empty means DefaultBaseURL. A path prefix is
	// kept (a sandbox mounted at http://host/sandbox/iamport works).
	BaseURL   string
	ImpKey    string
	ImpSecret string
	// HTTPClient sends every request; nil means a client with a 5 s dial
	// timeout, a 30 s total timeout and a keep-alive pool sized for
	// concurrent charges. Redirects are never followed either way: a money
	// call must not be re-sent somewhere else.
	HTTPClient *http.Client
	// Now is the local clock; nil means time.Now. Token lifetimes are
	// measured against Iamport's clock (see token.go), this only carries it.
	Now func() time.Time
	// Tier is the sub-merchant code sent as the Tier header by agencies.
	Tier string
	// TestMode is set for a test-mode account: only then do lookups ask
	// for test-channel payments (include_sandbox), so a live account never
	// even sees one.
	TestMode bool
}

// Client talks to Iamport for one account. It is safe for concurrent use.
type Client struct {
	base   string // without a trailing slash
	key    string
	secret string
	tier   string
	test   bool
	hc     *http.Client
	now    func() time.Time
	tok    tokenCache
}

var _ providers.Provider = (*Client)(nil)

// New returns a Client for cfg.
func New(cfg Config) (*Client, error) {
	if cfg.ImpKey == "" || cfg.ImpSecret == "" {
		return nil, errors.New("iamport: ImpKey and ImpSecret are required")
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("iamport: BaseURL %q is not an http(s) URL", base)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = defaultHTTPClient()
	}
	own := *hc // a copy, so the caller's client keeps its redirect policy
	own.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Client{
		base:   strings.TrimRight(base, "/"),
		key:    cfg.ImpKey,
		secret: cfg.ImpSecret,
		tier:   cfg.Tier,
		test:   cfg.TestMode,
		hc:     &own,
		now:    now,
	}, nil
}

func defaultHTTPClient() *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          256,
			MaxIdleConnsPerHost:   64,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   5 * time.Second,
			ExpectContinueTimeout: time.Second,
		},
	}
}

// Name returns "iamport".
func (c *Client) Name() string { return providers.Iamport }

// request is one authenticated API call.
type request struct {
	op     string // providers.Error.Op
	method string
	path   string // escaped, relative to the base URL
	query  url.Values
	body   any // sent as JSON when non-nil
	// repeatable: after a 401 the call is sent once more with a fresh token.
	// Iamport answers 401 from its authentication layer, before the handler
	// runs, so a 401 means "not processed". Still, a retry is allowed only
	// where a second attempt would be harmless even if that were wrong:
	// reads; deleting a key; again and schedule (Iamport refuses a second
	// payment for a merchant_uid, so a repeat cannot charge twice); a cancel
	// that carries a checksum (a repeat after a processed cancel no longer
	// matches the balance and is refused). A cancel without a checksum is
	// never repeated.
	repeatable bool
	// secrets are scrubbed from any text that ends up in an error.
	secrets []string
}

// reply is what came back, before any interpretation.
type reply struct {
	status    int
	enveloped bool // the body decoded as {code, message, response}
	code      int
	message   string
	response  json.RawMessage
}

// envelope is Iamport's reply wrapper. Code is a pointer so a body without
// it is recognised as "not an Iamport reply".
type envelope struct {
	Code     *json.Number    `json:"code"`
	Message  *string         `json:"message"`
	Response json.RawMessage `json:"response"`
}

// call sends req with a cached token; on a 401 it refreshes the token and, if
// req is repeatable, sends it once more. Errors are *providers.Error of kind
// ErrUnknown (transport) or whatever the token fetch reported.
func (c *Client) call(ctx context.Context, req request) (reply, error) {
	tok, err := c.accessToken(ctx, "")
	if err != nil {
		return reply{}, c.tokenFailure(req, err)
	}
	rep, err := c.send(ctx, req, tok)
	if err != nil || rep.status != http.StatusUnauthorized {
		return rep, err
	}
	if !req.repeatable {
		c.tok.invalidate(tok) // not resent, but the next call must not reuse it
		return rep, nil
	}
	// The token expired on Iamport's side (or was revoked) although our view
	// of its clock said otherwise: refresh once, unless another caller
	// already replaced this exact token.
	if tok, err = c.accessToken(ctx, tok); err != nil {
		return reply{}, c.tokenFailure(req, err)
	}
	return c.send(ctx, req, tok)
}

// send performs one HTTP exchange. Only transport and read failures are
// errors here; every HTTP status is returned for classify to judge.
func (c *Client) send(ctx context.Context, req request, token string) (reply, error) {
	var body io.Reader
	if req.body != nil {
		b, err := json.Marshal(req.body)
		if err != nil {
			// Our own request types always marshal; this is a programming error,
			// and nothing was sent.
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
	if token != "" {
		hr.Header.Set("Authorization", "Bearer "+token)
	}
	if c.tier != "" {
		hr.Header.Set("Tier", c.tier)
	}
	// Deliberately no Idempotency-Key header: net/http would then treat a POST
	// as replayable and may re-send it on a broken keep-alive connection.
	resp, err := c.hc.Do(hr)
	if err != nil {
		return reply{}, c.fail(req, providers.ErrUnknown, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes+1))
	if err != nil {
		return reply{}, c.fail(req, providers.ErrUnknown, fmt.Errorf("read reply (HTTP %d): %w", resp.StatusCode, err))
	}
	rep := reply{status: resp.StatusCode}
	if len(raw) > maxReplyBytes {
		return rep, nil // not enveloped: judged unreadable
	}
	var env envelope
	if json.Unmarshal(raw, &env) != nil || env.Code == nil {
		return rep, nil
	}
	code, err := strconv.Atoi(env.Code.String())
	if err != nil {
		return rep, nil
	}
	rep.enveloped, rep.code, rep.response = true, code, env.Response
	if env.Message != nil {
		rep.message = *env.Message
	}
	return rep, nil
}

// classify maps a reply to an error using the rules shared by every call;
// operations refine it (a decline is code 0, a missing key may be 200).
//
//	HTTP 200, code 0              → nil
//	HTTP 200, code ≠ 0            → ErrRejected (the request itself was refused)
//	HTTP 401                      → ErrAuth
//	HTTP 404                      → ErrNotFound
//	other 4xx with an envelope    → ErrRejected
//	5xx, 3xx, other 2xx, garbage  → ErrUnknown
func (c *Client) classify(req request, rep reply) error {
	switch {
	case rep.status == http.StatusOK && rep.enveloped && rep.code == 0:
		return nil
	case rep.status == http.StatusOK && rep.enveloped:
		return c.pgError(req, providers.ErrRejected, rep)
	case rep.status == http.StatusUnauthorized:
		return c.pgError(req, providers.ErrAuth, rep)
	case rep.status == http.StatusNotFound:
		return c.pgError(req, providers.ErrNotFound, rep)
	case rep.status >= 400 && rep.status < 500 && rep.enveloped:
		return c.pgError(req, providers.ErrRejected, rep)
	case rep.status == http.StatusOK:
		return c.fail(req, providers.ErrUnknown, errors.New("unreadable reply (HTTP 200)"))
	default:
		return c.pgError(req, providers.ErrUnknown, rep)
	}
}

// pgError builds an error carrying Iamport's code and message.
func (c *Client) pgError(req request, kind error, rep reply) *providers.Error {
	e := &providers.Error{Kind: kind, Provider: providers.Iamport, Op: req.op}
	if rep.enveloped {
		e.PGCode = strconv.Itoa(rep.code)
		e.PGMessage = c.scrub(req, rep.message)
	}
	if rep.status != http.StatusOK {
		e.Err = fmt.Errorf("HTTP %d", rep.status)
	}
	return e
}

// fail builds an error around a local or transport failure.
func (c *Client) fail(req request, kind error, err error) *providers.Error {
	return &providers.Error{Kind: kind, Provider: providers.Iamport, Op: req.op, Err: scrubbed{err, c.scrub(req, err.Error())}}
}

// tokenFailure re-labels a token error with the operation that needed it.
// A token that could not be fetched means the call itself was never sent.
func (c *Client) tokenFailure(req request, err error) error {
	var pe *providers.Error
	if errors.As(err, &pe) {
		cp := *pe
		cp.Op = req.op
		return &cp
	}
	return c.fail(req, providers.ErrUnknown, fmt.Errorf("access token: %w", err))
}

// scrub removes every secret the adapter knows of from s. Iamport's messages
// and Go's transport errors should never contain one; this makes sure.
func (c *Client) scrub(req request, s string) string {
	secrets := append([]string{c.secret}, req.secrets...)
	if t := c.tok.current(); t != "" {
		secrets = append(secrets, t)
	}
	for _, sec := range secrets {
		if len(sec) >= 4 && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}

// scrubbed is an error whose text has been scrubbed but which still unwraps
// to the original, so errors.Is(err, context.DeadlineExceeded) keeps working.
type scrubbed struct {
	err  error
	text string
}

func (s scrubbed) Error() string { return s.text }
func (s scrubbed) Unwrap() error { return s.err }

// decode unmarshals a successful reply's response; an undecodable response is
// an unreadable reply, so ErrUnknown.
func (c *Client) decode(req request, rep reply, v any) error {
	if len(rep.response) == 0 || string(rep.response) == "null" {
		return c.fail(req, providers.ErrUnknown, errors.New("reply has no response"))
	}
	if err := json.Unmarshal(rep.response, v); err != nil {
		return c.fail(req, providers.ErrUnknown, fmt.Errorf("decode response: %w", err))
	}
	return nil
}

// invalid reports a request refused locally, before anything was sent.
func (c *Client) invalid(op, msg string) error {
	return &providers.Error{Kind: providers.ErrRejected, Provider: providers.Iamport, Op: op, Err: errors.New(msg)}
}
