package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/rs/zerolog"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/store"
)

// Codes that exist only at the HTTP layer.
const (
	eTooLarge         billing.Code = "request_too_large"
	eUnsupportedMedia billing.Code = "unsupported_media_type"
	eMethodNotAllowed billing.Code = "method_not_allowed"
	eUnavailable      billing.Code = "service_unavailable"
)

// statusOf is the one mapping from error codes to HTTP statuses.
var statusOf = map[billing.Code]int{
	billing.EInvalid:      http.StatusBadRequest,
	billing.EUnauthorized: http.StatusUnauthorized,
	billing.EForbidden:    http.StatusForbidden,
	billing.ENotFound:     http.StatusNotFound,
	billing.EConflict:     http.StatusConflict,
	billing.EIdempotency:  http.StatusUnprocessableEntity,
	billing.ERateLimited:  http.StatusTooManyRequests,
	billing.EInternal:     http.StatusInternalServerError,
	billing.EDeclined:     http.StatusPaymentRequired,
	billing.EProvider:     http.StatusBadGateway,
	eTooLarge:             http.StatusRequestEntityTooLarge,
	eUnsupportedMedia:     http.StatusUnsupportedMediaType,
	eMethodNotAllowed:     http.StatusMethodNotAllowed,
	eUnavailable:          http.StatusServiceUnavailable,
}

type errorBody struct {
	Error errorObject `json:"error"`
}

type errorObject struct {
	Type         string `json:"type"`
	Code         string `json:"code,omitempty"`
	Message      string `json:"message"`
	Param        string `json:"param,omitempty"`
	ProviderCode string `json:"provider_code,omitempty"`
	RequestID    string `json:"request_id"`
	// Objects holds the object the failure left behind, under its type
	// ("payment": {…}); inlined into the error.
	Objects map[string]any `json:"-"`
}

// MarshalJSON inlines Objects beside the fixed fields.
func (e errorObject) MarshalJSON() ([]byte, error) {
	type plain errorObject
	b, err := json.Marshal(plain(e))
	if err != nil || len(e.Objects) == 0 {
		return b, err
	}
	extra, err := json.Marshal(e.Objects)
	if err != nil {
		return nil, err
	}
	return append(append(b[:len(b)-1], ','), extra[1:]...), nil
}

// renderError writes err as the error envelope. An error that is not a
// *billing.Error is ours: the client sees "internal error" and the request
// id, and the cause is logged once, here.
//
// A database that cannot be reached is no bug: it answers 503 with
// Retry-After, and is logged as a warning.
func renderError(w http.ResponseWriter, r *http.Request, err error) {
	writeError(w, r, publicError(r, err))
}

// publicError is the application error err is answered with, logging the
// cause of one that is ours.
func publicError(r *http.Request, err error) *billing.Error {
	var be *billing.Error
	if errors.As(err, &be) && statusOf[be.Code] != 0 && be.Code != billing.EInternal {
		return be
	}
	if store.Unavailable(err) {
		zerolog.Ctx(r.Context()).Warn().Err(err).Msg("database unavailable")
		return errUnavailable
	}
	zerolog.Ctx(r.Context()).Error().Err(err).Msg("internal error")
	return errInternal
}

// errorStatus is the status renderError answers err with: 0 for nil.
func errorStatus(err error) int {
	if err == nil {
		return 0
	}
	var be *billing.Error
	if !errors.As(err, &be) || statusOf[be.Code] == 0 || be.Code == billing.EInternal {
		if store.Unavailable(err) {
			return http.StatusServiceUnavailable
		}
		return http.StatusInternalServerError
	}
	return statusOf[be.Code]
}

// retryAfter is the one list of answers that tell the caller to retry the
// same request later, with how many seconds to wait: they carry
// Retry-After, and a request under an Idempotency-Key that gets one
// releases its key instead of storing the answer (idempotency.go), so the
// retry is processed once the conflict clears. Keyed by reason; "" stands
// for every error of a code.
var retryAfter = map[billing.Code]map[string]string{
	billing.ERateLimited: {"": "1"},
	billing.EProvider:    {"provider_unavailable": "5"}, // the PG could not be reached (502)
	eUnavailable:         {"": "2"},
	billing.EConflict: {
		"refund_in_progress":     "2", // store.CreateRefund: another refund is in flight
		"outcome_unknown":        "5", // payments.Refund: the PG has not confirmed the payment yet
		"payment_changed":        "1", // payments.Refund: the payment moved under the refund
		"idempotency_key_in_use": "1", // the first request with the key still runs
		// payments / subscriptions: the PG has not confirmed a schedule's
		// registration or revocation yet, so nothing may change until it has.
		"schedule_pending_confirmation": "30",
	},
}

// retryAfterOf is the Retry-After an error's answer carries, or "".
func retryAfterOf(be *billing.Error) string {
	byReason := retryAfter[be.Code]
	if v, ok := byReason[be.Reason]; ok {
		return v
	}
	return byReason[""]
}

// retryable is whether err's answer tells the caller to retry.
func retryable(err error) bool {
	var be *billing.Error
	return errors.As(err, &be) && retryAfterOf(be) != ""
}

// errInternal is all a client learns about our own failures.
var errInternal = &billing.Error{Code: billing.EInternal, Message: "internal error; quote the request_id when you contact support"}

// errUnavailable answers a request the database could not serve.
var errUnavailable = &billing.Error{Code: eUnavailable, Reason: "database_unavailable",
	Message: "the service cannot reach its database right now; retry after the time in Retry-After"}

// writeError writes an application error as the error envelope.
func writeError(w http.ResponseWriter, r *http.Request, be *billing.Error) {
	status := statusOf[be.Code]
	if after := retryAfterOf(be); after != "" {
		w.Header().Set("Retry-After", after)
	}
	obj := errorObject{
		Type:         string(be.Code),
		Code:         be.Reason,
		Message:      be.Message,
		Param:        be.Param,
		ProviderCode: be.ProviderCode,
		RequestID:    requestID(r.Context()),
	}
	if be.Object != nil && be.ObjectType != "" {
		obj.Objects = map[string]any{be.ObjectType: publicObject(be.ObjectType, be.Object)}
	}
	writeJSON(w, status, errorBody{Error: obj})
}

func notFound(w http.ResponseWriter, r *http.Request) {
	renderError(w, r, &billing.Error{Code: billing.ENotFound, Reason: "route_not_found",
		Message: "no such route: " + r.Method + " " + r.URL.Path})
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	renderError(w, r, &billing.Error{Code: eMethodNotAllowed, Reason: "method_not_allowed",
		Message: r.Method + " is not allowed on " + r.URL.Path})
}
