package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rs/zerolog"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/store"
)

// Idempotency semantics (Stripe's, on Brandur's storage):
//   - the first request with a key runs and its response is stored;
//   - the same key with the same method, path and body replays that
//     response with Idempotent-Replayed: true;
//   - the same key with a different request is 422;
//   - the same key while the first request still runs is 409;
//   - a request that fails validation (400, 413, 415) stores nothing, so
//     the key can be reused with a corrected body;
//   - a 5xx, or any answer that tells the caller to retry (it carries
//     Retry-After: 409 refund_in_progress, outcome_unknown, …; see
//     retryAfter in errors.go), releases the key and keeps its recovery
//     point, so a retry resumes where the failed run stopped instead of
//     replaying an answer that was only ever meant for the moment.
//
// A charge claims its key in the statement that creates its payment rather
// than before it runs (idempotentCharge): one round trip and one
// transaction less per charge. Its semantics are the same, except that a
// charge refused before it creates a payment stores nothing, whatever the
// status.
//
// Records are kept store.IdempotencyRetention, then the prune job deletes
// them.

const maxIdempotencyKeyLen = 255

type idempotencyKeyCtx struct{}

// idempotencyKeyFrom returns the key the current request runs under, the
// recovery point an earlier interrupted run reached and, when the key is
// not claimed yet (a charge claims its own), the pending claim.
func idempotencyKeyFrom(ctx context.Context) (store.IdempotencyKey, string, *store.PendingClaim, bool) {
	v, ok := ctx.Value(idempotencyKeyCtx{}).(*idempotencyRun)
	if !ok {
		return store.IdempotencyKey{}, "", nil, false
	}
	return v.key, v.recoveryPoint, v.pending, true
}

type idempotencyRun struct {
	key           store.IdempotencyKey
	recoveryPoint string
	// pending is set when the handler claims the key itself; lost is set
	// by a handler whose claim found the key taken (idempotencyKeyTaken).
	pending  *store.PendingClaim
	lost     bool
	answered bool
}

// idempotencyKeyTaken tells the middleware that the handler's own claim
// found the key taken and it wrote nothing: the request goes through the
// ordinary claim instead (replay, 409, 422, or a resumed run).
func idempotencyKeyTaken(r *http.Request) {
	if v, ok := r.Context().Value(idempotencyKeyCtx{}).(*idempotencyRun); ok {
		v.lost = true
	}
}

// idempotencyKeyAnswered tells the middleware that the handler's answer
// was stored with its work (payments.Reply): the key is settled already.
func idempotencyKeyAnswered(r *http.Request) {
	if v, ok := r.Context().Value(idempotencyKeyCtx{}).(*idempotencyRun); ok {
		v.answered = true
	}
}

// renderStored renders an answer for storing with the work it describes,
// when the middleware would store it: not for a 5xx or a retryable answer
// (which release the key) nor for a refusal of the request itself (400,
// 413, 415: the key is forgotten). err is what the answer renders, checked
// first so that an internal error is neither rendered nor logged twice.
func renderStored(r *http.Request, render func(http.ResponseWriter), err error) (int, []byte, bool) {
	if status := errorStatus(err); status >= 500 || refusesRequest(status) || retryable(err) {
		return 0, nil, false
	}
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	render(rec)
	if releases(rec) || refusesRequest(rec.status) {
		return 0, nil, false
	}
	return rec.status, rec.body.Bytes(), true
}

// releases is whether an answer releases its key rather than being stored:
// a 5xx, or an answer that tells the caller to retry.
func releases(rec *recorder) bool {
	return rec.status >= 500 || rec.header.Get("Retry-After") != ""
}

// refusesRequest is whether status says the request itself was wrong, so
// its key stores nothing and may be used again with a corrected request.
func refusesRequest(status int) bool {
	return status == http.StatusBadRequest || status == http.StatusRequestEntityTooLarge || status == http.StatusUnsupportedMediaType
}

// idempotent applies the semantics above to POSTs carrying an
// Idempotency-Key. With required set, a POST without one is refused.
func (s *Server) idempotent(required bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key, req, ok := s.idempotentRequest(w, r, required)
			if !ok {
				next.ServeHTTP(w, r)
				return
			}
			if key.Key != "" {
				s.claimAndRun(w, r, next, key, req)
			}
		})
	}
}

// idempotentCharge is idempotent(true) for a handler that claims the key
// itself, in the statement that starts its work (POST /v1/payments: the
// payment row): for a new key — nearly every charge — that saves the
// claim's own round trip and transaction. A request refused before that
// statement stores nothing, whatever its status. When the key exists
// already, the handler writes nothing and the request takes the ordinary
// path.
func (s *Server) idempotentCharge(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, req, ok := s.idempotentRequest(w, r, true)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		if key.Key == "" {
			return
		}
		body := r.Body
		run := &idempotencyRun{key: key, recoveryPoint: "started", pending: &store.PendingClaim{Request: req}}
		rec := &recorder{header: http.Header{}, status: http.StatusOK}
		s.runRecorded(rec, next, r.WithContext(context.WithValue(r.Context(), idempotencyKeyCtx{}, run)), run)
		if !run.lost {
			rec.flushTo(w)
			return
		}
		r.Body = body.(*replayableBody).rewind()
		s.claimAndRun(w, r, next, key, req)
	})
}

// idempotentRequest checks a request's Idempotency-Key and reads its body.
// ok is false when the request is not idempotent (not a POST, or no key
// where none is required): it runs as it is. A zero key with ok means the
// answer (an error) has been written.
func (s *Server) idempotentRequest(w http.ResponseWriter, r *http.Request, required bool) (store.IdempotencyKey, store.IdempotentRequest, bool) {
	raw := r.Header.Get("Idempotency-Key")
	if r.Method != http.MethodPost || (raw == "" && !required) {
		return store.IdempotencyKey{}, store.IdempotentRequest{}, false
	}
	if raw == "" {
		renderError(w, r, &billing.Error{Code: billing.EInvalid, Reason: "idempotency_key_missing",
			Param: "Idempotency-Key", Message: "this endpoint needs an Idempotency-Key header (a unique value per operation, e.g. a UUID)"})
		return store.IdempotencyKey{}, store.IdempotentRequest{}, true
	}
	if len(raw) > maxIdempotencyKeyLen || strings.TrimSpace(raw) != raw || !storableText(raw) {
		renderError(w, r, &billing.Error{Code: billing.EInvalid, Reason: "idempotency_key_invalid",
			Param: "Idempotency-Key", Message: "Idempotency-Key must be 1 to 255 characters of UTF-8 text without surrounding spaces or control characters"})
		return store.IdempotencyKey{}, store.IdempotentRequest{}, true
	}
	if !storableText(r.URL.Path) {
		// The path is stored with the key; no id holds such bytes, so no
		// handler would find what it names.
		renderError(w, r, &billing.Error{Code: billing.ENotFound, Reason: "resource_missing",
			Message: fmt.Sprintf("no such object: %q", r.URL.Path)})
		return store.IdempotencyKey{}, store.IdempotentRequest{}, true
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		renderError(w, r, decodeError(err))
		return store.IdempotencyKey{}, store.IdempotentRequest{}, true
	}
	r.Body = (&replayableBody{body: body}).rewind()
	p := principalFrom(r.Context())
	keyed, legacy := s.store.Fingerprint(canonicalRequest(r.Method, r.URL.Path, body))
	return store.IdempotencyKey{MerchantID: p.MerchantID, Mode: p.Mode, Key: raw},
		store.IdempotentRequest{Method: r.Method, Path: r.URL.Path, Fingerprint: keyed, Legacy: legacy}, true
}

// storableText is whether s can go into a text column: valid UTF-8 without
// NUL (Postgres refuses both) nor other control characters.
func storableText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, c := range s {
		if unicode.IsControl(c) {
			return false
		}
	}
	return true
}

// claimAndRun claims the key and runs the handler, or answers for the key:
// the stored response, 409 or 422.
func (s *Server) claimAndRun(w http.ResponseWriter, r *http.Request, next http.Handler, key store.IdempotencyKey, req store.IdempotentRequest) {
	claim, err := s.store.ClaimIdempotencyKey(r.Context(), key, req, idempotencyLease)
	if err != nil {
		renderError(w, r, err)
		return
	}
	switch claim.Outcome {
	case store.ClaimCompleted:
		w.Header().Set("Idempotent-Replayed", "true")
		writeRaw(w, claim.ResponseStatus, claim.ResponseBody)
		return
	case store.ClaimInFlight:
		renderError(w, r, &billing.Error{Code: billing.EConflict, Reason: "idempotency_key_in_use", Param: "Idempotency-Key",
			Message: "a request with this Idempotency-Key is still being processed; retry later"})
		return
	case store.ClaimMismatch:
		renderError(w, r, &billing.Error{Code: billing.EIdempotency, Reason: "idempotency_key_reused", Param: "Idempotency-Key",
			Message: "this Idempotency-Key was used with a different request; use a new key for a new request"})
		return
	}

	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	run := &idempotencyRun{key: key, recoveryPoint: claim.RecoveryPoint}
	s.runRecorded(rec, next, r.WithContext(context.WithValue(r.Context(), idempotencyKeyCtx{}, run)), run)
	rec.flushTo(w)
}

// replayableBody is a request body read once and served again from memory.
type replayableBody struct {
	io.Reader
	body []byte
}

func (b *replayableBody) Close() error { return nil }

// rewind returns the body from its start.
func (b *replayableBody) rewind() *replayableBody {
	b.Reader = bytes.NewReader(b.body)
	return b
}

// runRecorded runs the handler into rec and settles the key. Settling uses
// a context that outlives the client: a client that hung up must not leave
// the key locked. A run whose key is still pending (its handler stopped
// before claiming it, or found it taken) owns no key and settles nothing.
func (s *Server) runRecorded(rec *recorder, next http.Handler, r *http.Request, run *idempotencyRun) {
	key := run.key
	settle := func(status int, release bool) {
		if run.answered || (run.pending != nil && !run.pending.Claimed()) {
			return
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
		defer cancel()
		var err error
		switch {
		case release:
			err = s.store.ReleaseIdempotencyKey(ctx, key)
		case refusesRequest(status):
			err = s.store.ForgetIdempotencyKey(ctx, key)
		default:
			err = s.store.CompleteIdempotencyKey(ctx, key, status, rec.body.Bytes())
		}
		if err != nil {
			// The key stays locked until its lease lapses; a retry then
			// resumes from its recovery point. Nothing is lost.
			zerolog.Ctx(r.Context()).Error().Err(err).Msg("settle idempotency key")
		}
	}
	stopRenewing := s.renewLease(r.Context(), run)
	defer func() {
		if p := recover(); p != nil {
			stopRenewing()
			settle(http.StatusInternalServerError, true)
			panic(p) // recoverPanics renders the 500
		}
	}()
	next.ServeHTTP(rec, r)
	stopRenewing()
	settle(rec.status, releases(rec))
}

// canonicalRequest is what identifies a request under its key: method,
// path and the body in canonical form (JSON re-encoded with sorted keys),
// so formatting and key order do not make the same request look different.
// It holds card data on POST /v1/billing_keys: only its keyed hash
// (store.Fingerprint) is ever stored.
func canonicalRequest(method, path string, body []byte) []byte {
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // exact numbers: 2^53+1 and 2^53 must differ
	if dec.Decode(&v) == nil && !dec.More() {
		if canonical, err := json.Marshal(v); err == nil {
			body = canonical
		}
	}
	return append([]byte(method+"\n"+path+"\n"), body...)
}

// recorder buffers a response so it can be stored before it is sent.
type recorder struct {
	header      http.Header
	status      int
	wroteHeader bool
	body        bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = status, true
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

func (r *recorder) flushTo(w http.ResponseWriter) {
	for k, v := range r.header {
		w.Header()[k] = v
	}
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body.Bytes())
}
