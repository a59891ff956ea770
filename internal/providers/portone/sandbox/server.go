package sandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures a Server. The zero value works.
type Options struct {
	// Now is the sandbox's clock; nil means time.Now. Advance moves the
	// sandbox ahead of it (the test clock drives it that way).
	Now func() time.Time
	// HTTPClient sends webhooks; nil means a client with a 10 s timeout.
	HTTPClient *http.Client
	// Latency delays every API reply, for benchmarks; the request's
	// context cuts it short.
	Latency time.Duration
	// SlowReply is how long a charge whose amount ends in 5 holds its
	// reply (default 2 minutes, past the adapter's 60 s timeout). The
	// payment is recorded as paid first; the client giving up ends it.
	SlowReply time.Duration
}

// Account is one PortOne store as the sandbox knows it.
type Account struct {
	APISecret string
	// StoreID is the store the secret belongs to; empty means
	// "store-sandbox". A request naming another store is 403 FORBIDDEN.
	StoreID string
	// WebhookSecret signs webhooks ("whsec_" + base64, as the console shows
	// it). Webhooks go unsigned when it is empty or not base64, and a
	// verifying receiver refuses them.
	WebhookSecret string
	// WebhookURL is the console's webhook address, used when a request
	// names no noticeUrls.
	WebhookURL string
}

// Server is an in-memory PortOne V2. It implements http.Handler with
// relative routes only, so it can be mounted under any prefix with
// http.StripPrefix. It is safe for concurrent use; Close waits for
// webhooks in flight.
type Server struct {
	opts Options
	skew atomic.Int64 // nanoseconds Advance added
	hc   *http.Client
	mux  *http.ServeMux

	mu       sync.Mutex
	accounts map[string]*account // by API secret
	stores   map[string]*account // by store id
	calls    map[string]int

	hookMu     sync.Mutex
	hookClosed bool
	hooksOff   bool
	hooks      sync.WaitGroup
	delivered  atomic.Int64
}

// account is one store's data. Its Account never changes once it is
// shared (AddAccount replaces the pointer); the maps are guarded by s.mu.
type account struct {
	Account
	keys      map[string]*billingKey
	issues    map[string]*billingKey // by issueId
	payments  map[string]*payment    // by paymentId: the latest attempt
	attempts  map[string][]*payment  // by paymentId, oldest first
	schedules map[string]*schedule   // by schedule id
}

// New returns an empty sandbox; add stores with AddAccount.
func New(opts Options) *Server {
	if opts.SlowReply <= 0 {
		opts.SlowReply = 2 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, hc: opts.HTTPClient, mux: http.NewServeMux(),
		accounts: map[string]*account{}, stores: map[string]*account{}, calls: map[string]int{}}
	if s.hc == nil {
		s.hc = &http.Client{Timeout: 10 * time.Second}
	}
	s.routes()
	return s
}

func (s *Server) routes() {
	s.authed("GET /billing-keys/{billingKey}", s.getBillingKey)
	s.authed("POST /billing-keys", s.issueBillingKey)
	s.authed("DELETE /billing-keys/{billingKey}", s.deleteBillingKey)
	s.authed("POST /payments/{paymentId}/billing-key", s.charge)
	s.authed("GET /payments/{paymentId}", s.getPayment)
	s.authed("POST /payments/{paymentId}/cancel", s.cancel)
	s.authed("POST /payments/{paymentId}/schedule", s.schedule)
	s.authed("GET /payment-schedules/{scheduleId}", s.getSchedule)
	s.authed("GET /payment-schedules", s.listSchedules)
	s.authed("DELETE /payment-schedules", s.revokeSchedules)
	s.mux.HandleFunc("POST /sandbox/window/billing_keys", s.counted("POST /sandbox/window/billing_keys", s.windowIssue))
	s.mux.HandleFunc("GET /browser-sdk.js", s.serveScript)
	s.mux.HandleFunc("GET /sandbox/window", s.windowPage)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		apiError(w, http.StatusNotFound, "NOT_FOUND", "요청하신 API를 찾을 수 없습니다.")
	})
}

// ServeHTTP serves the PortOne V2 API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Server) counted(pattern string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.calls[pattern]++
		s.mu.Unlock()
		if s.opts.Latency > 0 && !sleep(r.Context(), s.opts.Latency) {
			return
		}
		h(w, r)
	}
}

// authed registers a route that needs "Authorization: PortOne <secret>".
// The Bearer form (access tokens from /login/api-secret) is not served: the
// docs dropped it in 2024-11 and billingd does not use it.
func (s *Server) authed(pattern string, h func(http.ResponseWriter, *http.Request, *account)) {
	s.mux.HandleFunc(pattern, s.counted(pattern, func(w http.ResponseWriter, r *http.Request) {
		scheme, secret, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		s.mu.Lock()
		a := s.accounts[strings.TrimSpace(secret)]
		s.mu.Unlock()
		if !strings.EqualFold(scheme, "PortOne") || a == nil {
			apiError(w, http.StatusUnauthorized, "UNAUTHORIZED", "인증 정보가 올바르지 않습니다.")
			return
		}
		h(w, r, a)
	}))
}

// store checks a request's storeId (query or body); "" means the secret's
// own store. It writes 403 and returns false for another store.
func store(w http.ResponseWriter, a *account, storeID string) bool {
	if storeID != "" && storeID != a.StoreID {
		apiError(w, http.StatusForbidden, "FORBIDDEN", "접근 권한이 없는 상점입니다.")
		return false
	}
	return true
}

// AddAccount registers a store and its API secret, as signing up at
// PortOne would. Adding a known secret replaces the other fields only.
func (s *Server) AddAccount(acct Account) {
	if acct.StoreID == "" {
		acct.StoreID = "store-sandbox"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.accounts[acct.APISecret]; ok {
		if old.Account == acct {
			return
		}
		// A new *account sharing the old one's data: requests in flight
		// keep reading the settings they started with, without a lock.
		a := *old
		a.Account = acct
		delete(s.stores, old.StoreID)
		s.accounts[acct.APISecret], s.stores[acct.StoreID] = &a, &a
		return
	}
	a := &account{Account: acct, keys: map[string]*billingKey{}, issues: map[string]*billingKey{},
		payments: map[string]*payment{}, attempts: map[string][]*payment{}, schedules: map[string]*schedule{}}
	s.accounts[acct.APISecret] = a
	s.stores[acct.StoreID] = a
}

// now is the sandbox clock: Options.Now plus whatever Advance added.
func (s *Server) now() time.Time { return s.opts.Now().Add(time.Duration(s.skew.Load())).UTC() }

// Now returns the sandbox's current time.
func (s *Server) Now() time.Time { return s.now() }

// Advance moves the sandbox clock forward to t (never backwards).
// Schedules fall due by this clock; RunDue executes them.
func (s *Server) Advance(t time.Time) {
	for {
		old := s.skew.Load()
		d := t.Sub(s.opts.Now().Add(time.Duration(old)))
		if d <= 0 || s.skew.CompareAndSwap(old, old+int64(d)) {
			return
		}
	}
}

// Calls reports how many requests a route received, by its registered
// pattern, e.g. "POST /payments/{paymentId}/billing-key".
func (s *Server) Calls(pattern string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[pattern]
}

// SetWebhooksEnabled turns notifications off (a PG whose webhooks are
// lost) or on again.
func (s *Server) SetWebhooksEnabled(on bool) {
	s.hookMu.Lock()
	s.hooksOff = !on
	s.hookMu.Unlock()
}

// WebhooksDelivered counts webhooks a receiver answered with a 2xx.
func (s *Server) WebhooksDelivered() int64 { return s.delivered.Load() }

// Close stops sending new webhooks and waits for those in flight.
func (s *Server) Close() {
	s.hookMu.Lock()
	s.hookClosed = true
	s.hookMu.Unlock()
	s.hooks.Wait()
}

// apiError writes PortOne's error body {"type","message"}.
func apiError(w http.ResponseWriter, status int, typ, message string) {
	writeJSON(w, status, map[string]string{"type": typ, "message": message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// maxBody bounds a request body.
const maxBody = 1 << 20

// readBody decodes a JSON body into v, whatever the Content-Type (the
// official JS SDK sends its JSON as text/plain). For list and revoke, the
// input may come as ?requestBody= instead. Numbers are kept as
// json.Number so a fractional amount is refused, not truncated.
func readBody(r *http.Request, v any) error {
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return err
	}
	if len(raw) > maxBody {
		return errors.New("body too large")
	}
	if q := r.URL.Query().Get("requestBody"); len(bytes.TrimSpace(raw)) == 0 && q != "" {
		raw = []byte(q)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
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

// randomID returns prefix followed by 20 random hex digits.
func randomID(prefix string) string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// storeIDParam is the storeId query parameter.
func storeIDParam(r *http.Request) string { return r.URL.Query().Get("storeId") }
