package bootpay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/billingd/billingd/internal/providers"
)

// Default base URLs of the two API generations.
const (
	DefaultV2BaseURL = "https://api.bootpay.co.kr/v2"
	DefaultV1BaseURL = "https://api.bootpay.co.kr"
)

// API generations accepted in Config.APIVersion.
const (
	V1 = "v1"
	V2 = "v2"
)

// maxReply bounds how much of a reply is read; Bootpay's largest objects
// (receipts with nested PG data) are a few KB.
const maxReply = 1 << 20

// Config configures one Client, bound to one Bootpay project.
type Config struct {
	// BaseURL defaults to DefaultV2BaseURL, or DefaultV1BaseURL for v1.
	BaseURL string
	// APIVersion is "v2" (default) or "v1" for legacy merchants.
	APIVersion string
	// ApplicationID and PrivateKey are the project's REST key pair.
	ApplicationID string
	PrivateKey    string
	// HTTPClient is used for every call. Nil means a client with a 5 s dial
	// timeout, a 30 s total timeout and 64 idle connections per host.
	// Redirects are never followed, whatever client is given.
	HTTPClient *http.Client
	// Now is the clock used for the token cache; nil means time.Now.
	Now func() time.Time
}

// Client is a Bootpay adapter. It is safe for concurrent use; its only
// state is the access-token cache and a bounded order_id → receipt_id index
// (see FindPayment).
type Client struct {
	baseURL    string
	v1         bool
	appID      string
	privateKey string
	http       *http.Client
	now        func() time.Time
	tok        tokenCache
	receipts   receiptIndex
}

var _ providers.Provider = (*Client)(nil)

// New validates cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	c := &Client{appID: cfg.ApplicationID, privateKey: cfg.PrivateKey, now: cfg.Now}
	switch strings.ToLower(cfg.APIVersion) {
	case "", V2:
		c.baseURL = DefaultV2BaseURL
	case V1:
		c.v1 = true
		c.baseURL = DefaultV1BaseURL
	default:
		return nil, fmt.Errorf("bootpay: unknown API version %q (want v1 or v2)", cfg.APIVersion)
	}
	if cfg.ApplicationID == "" || cfg.PrivateKey == "" {
		return nil, errors.New("bootpay: ApplicationID and PrivateKey are required")
	}
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, errors.New("bootpay: BaseURL must be an absolute http(s) URL")
		}
		c.baseURL = cfg.BaseURL
	}
	c.baseURL = strings.TrimRight(c.baseURL, "/")
	if c.now == nil {
		c.now = time.Now
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = defaultHTTPClient()
	} else {
		cp := *hc // shallow copy: same transport, our redirect policy
		hc = &cp
	}
	// A redirect would turn a POST into a GET or replay it elsewhere; a
	// 3xx is reported as an unexpected reply instead.
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.http = hc
	c.receipts.init(receiptIndexSize)
	return c, nil
}

func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: t, Timeout: 30 * time.Second}
}

// Name returns "bootpay".
func (c *Client) Name() string { return providers.Bootpay }

// APIVersion returns "v1" or "v2".
func (c *Client) APIVersion() string {
	if c.v1 {
		return V1
	}
	return V2
}

// ErrNotSent is wrapped (beside the Kind) when a request provably never
// reached Bootpay: the connection failed, or the token could not be had,
// before the request was written. Nothing can have happened at Bootpay, so
// the same operation may be sent again. For state-changing calls the Kind
// is ErrRejected (definitive for this attempt, no money moved); for lookups
// it is ErrUnknown (the answer is not known).
var ErrNotSent = errors.New("request not sent to bootpay")

// ErrUnsupported is wrapped in the ErrRejected returned where the
// configured API generation lacks the operation.
var ErrUnsupported = errors.New("operation not offered by this bootpay API generation")

// call describes one HTTP exchange with Bootpay.
type call struct {
	op     string // providers.Error.Op
	method string
	path   string // escaped path below the base URL
	route  string // path template for error messages: no ids, no keys
	body   any
	// write: the call changes state at Bootpay; ambiguity is ErrUnknown and
	// it is never sent twice except after a definitive 401 (see send).
	write bool
	// notFound: a 404 means ErrNotFound (lookups, deletes); otherwise a 404
	// is ErrRejected (charging an unknown billing key rejects the charge).
	notFound bool
	// payment: a refusal that carries the PG's own code is ErrDeclined.
	payment bool
	// noAuth: sent without Authorization (the token call itself).
	noAuth bool
}

type reply struct {
	status int
	body   []byte
}

func (c *Client) fail(cl call, kind error, code, msg string, err error) *providers.Error {
	return &providers.Error{Kind: kind, Provider: providers.Bootpay, Op: cl.op, PGCode: code, PGMessage: clip(msg), Err: err}
}

// notSent reports a failure before anything was written to Bootpay.
func (c *Client) notSent(cl call, err error) *providers.Error {
	kind := providers.ErrUnknown
	if cl.write {
		kind = providers.ErrRejected
	}
	if err == nil {
		return c.fail(cl, kind, "", "", ErrNotSent)
	}
	return c.fail(cl, kind, "", "", fmt.Errorf("%w: %w", ErrNotSent, err))
}

// rejectLocal refuses a request before sending it (bad input).
func (c *Client) rejectLocal(op, msg string) *providers.Error {
	return &providers.Error{Kind: providers.ErrRejected, Provider: providers.Bootpay, Op: op, PGMessage: msg, Err: ErrNotSent}
}

func (c *Client) unsupported(op, msg string) *providers.Error {
	return &providers.Error{Kind: providers.ErrRejected, Provider: providers.Bootpay, Op: op,
		PGMessage: "bootpay " + c.APIVersion() + ": " + msg, Err: fmt.Errorf("%w (%w)", ErrUnsupported, ErrNotSent)}
}

// send performs cl and decodes a successful reply (v2: the bare object, v1:
// the envelope's data) into out, which may be nil.
//
// A 401 on an authenticated call refreshes the token and sends the call
// once more. That is safe even for charges and cancels: a 401 is a complete
// reply from Bootpay's authentication check, which runs before any handler,
// so the first request was refused, not executed, and the second one is the
// only one that can execute. For state-changing calls the 401 must also
// carry Bootpay's own error shape, so that a 401 produced by something else
// on the path is not taken as that proof. A second 401 is final: ErrAuth.
func (c *Client) send(ctx context.Context, cl call, out any) error {
	var body []byte
	if cl.body != nil {
		b, err := json.Marshal(cl.body)
		if err != nil {
			return c.notSent(cl, errors.New("encode request"))
		}
		body = b
	}
	for attempt := 0; ; attempt++ {
		var tok string
		if !cl.noAuth {
			t, err := c.token(ctx)
			if err != nil {
				if pe, ok := providers.AsError(err); ok && errors.Is(pe.Kind, providers.ErrAuth) {
					return c.fail(cl, providers.ErrAuth, pe.PGCode, pe.PGMessage, ErrNotSent)
				}
				return c.notSent(cl, err)
			}
			tok = t
		}
		r, err := c.roundTrip(ctx, cl, body, tok)
		if err != nil {
			return err
		}
		if !cl.noAuth && attempt == 0 && c.tokenRefused(r) && (!cl.write || c.bootpayShaped(r.body)) {
			c.tok.invalidate(tok)
			continue
		}
		return c.decode(cl, r, out)
	}
}

// roundTrip sends one request and reads the whole reply.
func (c *Client) roundTrip(ctx context.Context, cl call, body []byte, tok string) (reply, error) {
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
		if i.Err == nil {
			wrote.Store(true)
		}
	}}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), cl.method, c.baseURL+cl.path, rd)
	if err != nil {
		return reply{}, c.notSent(cl, errors.New("build request"))
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Accept-Charset", "utf-8")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		if c.v1 {
			req.Header.Set("Authorization", tok) // v1: the bare token, no scheme
		} else {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
	}
	res, err := c.http.Do(req)
	if err != nil {
		// url.Error would repeat the full URL (receipt ids, billing keys);
		// keep only the cause and the route template.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		err = fmt.Errorf("%s %s: %w", cl.method, cl.route, err)
		if !wrote.Load() {
			return reply{}, c.notSent(cl, err)
		}
		// The request left: a timeout or reset now says nothing about
		// whether Bootpay acted on it.
		return reply{}, c.fail(cl, providers.ErrUnknown, "", "no reply", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxReply+1))
	if err != nil {
		return reply{}, c.fail(cl, providers.ErrUnknown, "", "reply unreadable", fmt.Errorf("%s %s: HTTP %d: %w", cl.method, cl.route, res.StatusCode, err))
	}
	if len(b) > maxReply {
		return reply{}, c.fail(cl, providers.ErrUnknown, "", "reply too large", fmt.Errorf("%s %s: HTTP %d", cl.method, cl.route, res.StatusCode))
	}
	return reply{status: res.StatusCode, body: b}, nil
}

// clip bounds a PG message so that an unexpected body can never be dumped
// whole into an error.
func clip(s string) string {
	const max = 200
	if r := []rune(s); len(r) > max {
		return string(r[:max]) + "…"
	}
	return s
}
