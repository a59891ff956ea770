package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
)

// Options configures a Server.
type Options struct {
	// Now is the base clock; Advance adds to it. Nil means time.Now.
	Now func() time.Time
	// HTTPClient posts webhooks. Nil means a client with a 5 s timeout.
	HTTPClient *http.Client
	// Latency delays every API reply (not the sandbox windows); the delay
	// ends early if the client goes away.
	Latency time.Duration
	// SlowReply is how long a lost-reply charge (price ending in 5) holds
	// its reply. Default 35 s, past the adapter's default 30 s timeout; the
	// hold ends as soon as the client gives up.
	SlowReply time.Duration
}

// Server is an in-memory Bootpay speaking v1 (at the root) and v2 (under
// /v2). It is an http.Handler whose routes are all relative, so it can be
// mounted under any prefix with http.StripPrefix. Safe for concurrent use.
type Server struct {
	opts   Options
	router http.Handler
	offset atomic.Int64 // Advance, in nanoseconds
	seq    atomic.Uint64
	hooks  *hookQueue
	faults faults

	tokensIssued   atomic.Int64
	tokenRequests  atomic.Int64
	hooksDelivered atomic.Int64

	mu         sync.RWMutex
	accounts   map[string]*account     // by application_id
	tokens     map[string]*accessToken // by token value
	userTokens map[string]*userToken   // by token value
	receipts   map[string]*receipt     // by receipt_id
	orders     map[string][]*receipt   // by application_id + "\x00" + order_id
	keys       map[string]*billingKey  // by billing_key
	keyReceipt map[string]*billingKey  // by issuing receipt_id
	certs      map[string]*certificate // by receipt_id
	reserves   map[string]*reservation // by reserve_id
	waiting    map[string]int          // waiting reservations per billing key
	cancelIDs  map[string]bool         // receipt_id + "\x00" + cancel_id
}

type account struct {
	appID, privateKey string
	current           *accessToken
}

// New returns a Server with no accounts; add them with AddAccount.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SlowReply <= 0 {
		opts.SlowReply = 35 * time.Second
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 5 * time.Second}
	}
	s := &Server{
		opts:       opts,
		hooks:      newHookQueue(hc),
		accounts:   map[string]*account{},
		tokens:     map[string]*accessToken{},
		userTokens: map[string]*userToken{},
		receipts:   map[string]*receipt{},
		orders:     map[string][]*receipt{},
		keys:       map[string]*billingKey{},
		keyReceipt: map[string]*billingKey{},
		certs:      map[string]*certificate{},
		reserves:   map[string]*reservation{},
		waiting:    map[string]int{},
		cancelIDs:  map[string]bool{},
	}
	s.hooks.delivered = &s.hooksDelivered
	s.router = s.routes()
	return s
}

func (s *Server) routes() http.Handler {
	r := chi.NewRouter()
	// v1 at the root. The gitbook documents the ".json" spellings too.
	r.Group(func(r chi.Router) {
		r.Use(s.latency)
		r.Post("/request/token", s.v1Token)
		r.Post("/request/token.json", s.v1Token)
		r.Group(func(r chi.Router) {
			r.Use(s.auth(1))
			r.Post("/request/user/token", s.v1UserToken)
			r.Post("/request/user/token.json", s.v1UserToken)
			r.Get("/receipt/{id}", s.v1Receipt)
			r.Get("/certificate/{id}", s.v1Certificate)
			r.Post("/request/card_rebill", s.v1IssueKey)
			r.Post("/request/card_rebill.json", s.v1IssueKey)
			r.Post("/subscribe/billing", s.v1Charge)
			r.Post("/subscribe/billing.json", s.v1Charge)
			r.Post("/subscribe/billing/reserve", s.v1Reserve)
			r.Post("/subscribe/billing/reserve.json", s.v1Reserve)
			r.Delete("/subscribe/billing/reserve/{id}", s.v1CancelReserve)
			r.Delete("/subscribe/billing/{key}", s.v1DeleteKey)
			r.Post("/cancel", s.v1Cancel)
			r.Post("/cancel.json", s.v1Cancel)
		})
	})
	r.Route("/v2", func(r chi.Router) {
		r.Use(s.latency)
		r.Post("/request/token", s.v2Token)
		r.Post("/request/token.json", s.v2Token)
		r.Group(func(r chi.Router) {
			r.Use(s.auth(2))
			r.Post("/request/user/token", s.v2UserToken)
			r.Get("/receipt/{id}", s.v2Receipt)
			r.Get("/certificate/{id}", s.v2Certificate)
			r.Post("/request/subscribe", s.v2IssueKey)
			r.Get("/subscribe/billing_key/{id}", s.v2KeyByReceipt)
			r.Get("/billing_key/{key}", s.v2KeyByKey)
			r.Delete("/subscribe/billing_key/{key}", s.v2DeleteKey)
			r.Post("/subscribe/payment", s.v2Charge)
			r.Post("/subscribe/payment/reserve", s.v2Reserve)
			r.Get("/subscribe/payment/reserve/{id}", s.v2LookupReserve)
			r.Delete("/subscribe/payment/reserve/{id}", s.v2CancelReserve)
			r.Post("/cancel", s.v2Cancel)
		})
		r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
			writeV2Err(w, &apiErr{status: http.StatusNotFound, code: "NOT_FOUND", msg: "no such API"})
		})
	})
	r.Get("/sandbox/window", s.windowPage)
	r.Post("/sandbox/window/certifications", s.windowCertification)
	r.Post("/sandbox/window/billing_keys", s.windowBillingKey)
	r.Get("/bootpay.js", s.serveScript)
	r.Get("/sandbox/checkout", s.checkoutPage)
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
		writeV1Err(w, &apiErr{status: http.StatusNotFound, v1code: -404, msg: "no such API"})
	})
	return r
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// AddAccount registers a project's REST key pair.
func (s *Server) AddAccount(applicationID, privateKey string) {
	s.mu.Lock()
	s.accounts[applicationID] = &account{appID: applicationID, privateKey: privateKey}
	s.mu.Unlock()
}

// Now is the sandbox clock: Options.Now plus every Advance.
func (s *Server) Now() time.Time { return s.opts.Now().Add(time.Duration(s.offset.Load())) }

// Advance moves the sandbox clock forward by d (tokens, certificates and
// reservations age with it). It runs nothing: call RunDue.
func (s *Server) Advance(d time.Duration) { s.offset.Add(int64(d)) }

// TokenIssued is how many distinct access tokens the sandbox has minted.
func (s *Server) TokenIssued() int64 { return s.tokensIssued.Load() }

// TokenRequests is how many successful token requests it has answered
// (a request within 25 minutes of the last mint gets the same token).
func (s *Server) TokenRequests() int64 { return s.tokenRequests.Load() }

// WebhooksDelivered is how many webhooks were acknowledged by receivers.
func (s *Server) WebhooksDelivered() int64 { return s.hooksDelivered.Load() }

// PaidCount is how many receipts of the account's order are paid (or were
// paid and later cancelled): the "charged exactly once" check for tests.
func (s *Server) PaidCount(applicationID, orderID string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, rc := range s.orders[orderKey(applicationID, orderID)] {
		if rc.status == statusPaid || rc.status == statusCancelled {
			n++
		}
	}
	return n
}

// Close stops webhook delivery (in-flight sends are cancelled, pending
// retries dropped) and waits for its goroutines to end.
func (s *Server) Close() { s.hooks.close() }

// latency delays API replies by Options.Latency, ending early if the
// client goes away.
func (s *Server) latency(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.opts.Latency > 0 {
			wait(r.Context(), s.opts.Latency)
		}
		next.ServeHTTP(w, r)
	})
}

// wait sleeps for d or until ctx ends.
func wait(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// newID returns a 24-hex id shaped like Bootpay's ObjectIds; tag fills the
// last 4 hex digits (see the certificate markers in doc.go).
func (s *Server) newID(tag uint16) string {
	return fmt.Sprintf("%08x%012x%04x", uint32(s.Now().Unix()), s.seq.Add(1)&0xffffffffffff, tag)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func orderKey(appID, orderID string) string { return appID + "\x00" + orderID }

// apiErr is a failure, rendered per generation: v2 as {error_code, message,
// pg_error_code}, v1 as the envelope with a negative code and, for PG
// failures, the PG's raw reply in data.
type apiErr struct {
	status   int
	v1status int    // v1 HTTP status when it differs (v1 PG failures are 500)
	code     string // v2 error_code
	v1code   int    // v1 code (negative)
	msg      string
	pgCode   string         // v2 pg_error_code
	pgData   map[string]any // v1 data on a PG failure
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeV2Err(w http.ResponseWriter, e *apiErr) {
	body := map[string]any{"error_code": e.code, "message": e.msg}
	if e.pgCode != "" {
		body["pg_error_code"] = e.pgCode
	}
	writeJSON(w, e.status, body)
}

type v1Envelope struct {
	Status  int    `json:"status"`
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data"`
}

func writeV1(w http.ResponseWriter, data any) {
	writeJSON(w, http.StatusOK, v1Envelope{Status: http.StatusOK, Data: data})
}

func writeV1Err(w http.ResponseWriter, e *apiErr) {
	code := e.v1code
	if code == 0 {
		code = -1
	}
	var data any
	if e.pgData != nil {
		data = e.pgData
	}
	status := e.status
	if e.v1status != 0 {
		status = e.v1status
	}
	writeJSON(w, status, v1Envelope{Status: status, Code: code, Message: e.msg, Data: data})
}

// decode reads a JSON request body (numbers kept as json.Number).
func decode(r *http.Request, v any) *apiErr {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return badRequest("INVALID_PARAMETER", "요청 본문을 읽을 수 없습니다 (JSON)")
	}
	return nil
}

func badRequest(code, msg string) *apiErr {
	return &apiErr{status: http.StatusBadRequest, code: code, v1code: -2, msg: msg}
}

func notFound(code, msg string) *apiErr {
	return &apiErr{status: http.StatusNotFound, code: code, v1code: -404, msg: msg}
}
