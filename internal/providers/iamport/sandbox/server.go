package sandbox

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures a Server. The zero value works.
type Options struct {
	// Now is the sandbox's clock; nil means time.Now. Advance moves the
	// sandbox ahead of it.
	Now func() time.Time
	// HTTPClient sends webhooks; nil means a plain client.
	HTTPClient *http.Client
	// WebhookFormat is "json" (default) or "form", like the console setting.
	WebhookFormat string
	// Latency delays every reply, for benchmarks. The request's context
	// cuts it short.
	Latency time.Duration
	// SlowReply is how long a charge whose amount ends in 5 holds its reply
	// (default 2 minutes, longer than any sane client timeout). The request's
	// context cuts it short; the payment is recorded as paid first.
	SlowReply time.Duration
	// WebhookTimeout bounds each webhook delivery (default 10 s).
	WebhookTimeout time.Duration
}

// Server is an in-memory Iamport. It implements http.Handler with relative
// routes only, so it can be mounted under any prefix with http.StripPrefix.
// It is safe for concurrent use; Close waits for webhooks in flight.
type Server struct {
	opts  Options
	clock func() time.Time
	skew  atomic.Int64 // nanoseconds added to clock by Advance
	hc    *http.Client
	mux   *http.ServeMux

	mu             sync.Mutex
	accounts       map[string]*account // by imp_key
	tokens         map[string]*accessToken
	calls          map[string]int // by route pattern
	totalCalls     int
	tokensIssued   int
	seq            int64
	notFoundStatus int // HTTP status for an unknown customer_uid (§11.1)
	faults         faults

	hookMu     sync.Mutex
	hookClosed bool
	hooksOff   bool // SetWebhooksEnabled(false): notifications are dropped
	hooks      sync.WaitGroup
}

// New returns an empty sandbox; add credentials with AddAccount.
func New(opts Options) *Server {
	if opts.SlowReply <= 0 {
		opts.SlowReply = 2 * time.Minute
	}
	if opts.WebhookTimeout <= 0 {
		opts.WebhookTimeout = 10 * time.Second
	}
	s := &Server{
		opts:           opts,
		clock:          opts.Now,
		hc:             opts.HTTPClient,
		mux:            http.NewServeMux(),
		accounts:       map[string]*account{},
		tokens:         map[string]*accessToken{},
		calls:          map[string]int{},
		notFoundStatus: http.StatusNotFound,
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.hc == nil {
		s.hc = &http.Client{}
	}
	s.routes()
	return s
}

func (s *Server) routes() {
	s.handle("POST /users/getToken", s.getToken)
	s.authed("GET /subscribe/customers", s.getCustomers)
	s.authed("GET /subscribe/customers/{customer_uid}", s.getCustomer)
	s.authed("POST /subscribe/customers/{customer_uid}", s.issueCustomer)
	s.authed("DELETE /subscribe/customers/{customer_uid}", s.deleteCustomer)
	s.authed("POST /subscribe/payments/again", s.again)
	s.authed("POST /subscribe/payments/schedule", s.schedule)
	s.authed("POST /subscribe/payments/unschedule", s.unschedule)
	s.authed("GET /subscribe/payments/schedule/{merchant_uid}", s.getSchedule)
	s.authed("GET /payments/{imp_uid}", s.getPayment)
	s.authed("GET /payments/find/{merchant_uid}", s.findPayment)
	s.authed("GET /payments/find/{merchant_uid}/{payment_status}", s.findPayment)
	s.authed("POST /payments/cancel", s.cancel)
	s.handle("GET /sandbox/window", s.windowPage)
	s.handle("POST /sandbox/window/billing_keys", s.windowIssue)
	s.mux.HandleFunc("GET /iamport.js", s.serveScript)
	s.mux.HandleFunc("GET /sandbox/checkout", s.checkoutPage)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		fail(w, http.StatusNotFound, -1, "요청하신 API를 찾을 수 없습니다.")
	})
}

// ServeHTTP serves the Iamport API. A trailing slash is accepted on every
// route, as Iamport does (the PHP and Go clients send one).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p := r.URL.Path; len(p) > 1 && strings.HasSuffix(p, "/") {
		u := *r.URL
		u.Path = strings.TrimSuffix(p, "/")
		u.RawPath = strings.TrimSuffix(u.RawPath, "/")
		r2 := *r
		r2.URL = &u
		r = &r2
	}
	s.mux.ServeHTTP(w, r)
}

// handle registers an unauthenticated route, counted and delayed like all.
func (s *Server) handle(pattern string, h http.HandlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.count(pattern)
		s.mu.Unlock()
		if !s.delay(r.Context()) {
			return
		}
		h(w, r)
	})
}

// authed registers a route that needs an access token; the handler gets the
// token's account.
func (s *Server) authed(pattern string, h func(http.ResponseWriter, *http.Request, *account)) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.count(pattern)
		acct := s.authenticate(r)
		s.mu.Unlock()
		if !s.delay(r.Context()) {
			return
		}
		if acct == nil {
			fail(w, http.StatusUnauthorized, -1, "Unauthorized: 유효한 access_token이 필요합니다.")
			return
		}
		h(w, r, acct)
	})
}

func (s *Server) count(pattern string) {
	s.calls[pattern]++
	s.totalCalls++
}

// delay waits Options.Latency; false when the client gave up meanwhile.
func (s *Server) delay(ctx context.Context) bool {
	if s.opts.Latency <= 0 {
		return true
	}
	return sleep(ctx, s.opts.Latency)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// now is the sandbox clock: Options.Now plus whatever Advance added.
func (s *Server) now() time.Time { return s.clock().Add(time.Duration(s.skew.Load())) }

// Now returns the sandbox's current time.
func (s *Server) Now() time.Time { return s.now() }

// Advance moves the sandbox clock forward to t (never backwards). Tokens
// expire and schedules fall due by this clock; RunDue executes them.
func (s *Server) Advance(t time.Time) {
	for {
		old := s.skew.Load()
		d := t.Sub(s.clock().Add(time.Duration(old)))
		if d <= 0 || s.skew.CompareAndSwap(old, old+int64(d)) {
			return
		}
	}
}

// AddAccount registers credentials; each imp_key is a separate merchant
// with its own billing keys, payments and schedules. Adding a known key
// replaces its secret only.
func (s *Server) AddAccount(impKey, impSecret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.accounts[impKey]; ok {
		a.secret = impSecret
		return
	}
	s.accounts[impKey] = newAccount(impKey, impSecret)
}

// SetWebhooksEnabled turns notifications off (a PG whose webhooks are
// lost) or on again; tests use it to settle payments by reconciliation
// alone.
func (s *Server) SetWebhooksEnabled(on bool) {
	s.hookMu.Lock()
	defer s.hookMu.Unlock()
	s.hooksOff = !on
}

// SetCustomerNotFoundMode chooses how GET/DELETE of an unknown customer_uid
// is answered (reference §11.1): http.StatusNotFound (default, as SPEC) or
// http.StatusOK (as live-API test suites observe); both with code 1.
func (s *Server) SetCustomerNotFoundMode(status int) {
	if status != http.StatusOK {
		status = http.StatusNotFound
	}
	s.mu.Lock()
	s.notFoundStatus = status
	s.mu.Unlock()
}

// Calls reports how many requests a route received, by its pattern as
// registered, e.g. "POST /subscribe/payments/again" or "POST /users/getToken".
func (s *Server) Calls(pattern string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[pattern]
}

// TotalCalls reports how many requests any known route received.
func (s *Server) TotalCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.totalCalls
}

// TokenIssued reports how many distinct access tokens were minted. A
// getToken answered with a still-valid token (possibly extended) does not
// count; Calls("POST /users/getToken") counts requests.
func (s *Server) TokenIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokensIssued
}

// Close stops sending new webhooks and waits for those in flight. The
// handler keeps answering API calls.
func (s *Server) Close() {
	s.hookMu.Lock()
	s.hookClosed = true
	s.hookMu.Unlock()
	s.hooks.Wait()
}

// envelope is Iamport's reply wrapper: message is null on success, response
// is null on errors.
type envelope struct {
	Code     int     `json:"code"`
	Message  *string `json:"message"`
	Response any     `json:"response"`
}

func ok(w http.ResponseWriter, response any) {
	writeJSON(w, http.StatusOK, envelope{Response: response})
}

func fail(w http.ResponseWriter, status, code int, message string) {
	writeJSON(w, status, envelope{Code: code, Message: &message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
