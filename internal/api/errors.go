package api

import (
	"errors"
	"net/http"

	"github.com/rs/zerolog"

	"github.com/billingd/billingd/internal/billing"
)

// Codes that exist only at the HTTP layer.
const (
	eTooLarge         billing.Code = "request_too_large"
	eUnsupportedMedia billing.Code = "unsupported_media_type"
	eMethodNotAllowed billing.Code = "method_not_allowed"
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
	eTooLarge:             http.StatusRequestEntityTooLarge,
	eUnsupportedMedia:     http.StatusUnsupportedMediaType,
	eMethodNotAllowed:     http.StatusMethodNotAllowed,
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
}

// renderError writes err as the error envelope. An error that is not a
// *billing.Error is ours: the client sees "internal error" and the request
// id, and the cause is logged once, here.
func renderError(w http.ResponseWriter, r *http.Request, err error) {
	var be *billing.Error
	if !errors.As(err, &be) || statusOf[be.Code] == 0 || be.Code == billing.EInternal {
		zerolog.Ctx(r.Context()).Error().Err(err).Msg("internal error")
		be = errInternal
	}
	writeError(w, r, be)
}

// errInternal is all a client learns about our own failures.
var errInternal = &billing.Error{Code: billing.EInternal, Message: "internal error; quote the request_id when you contact support"}

// writeError writes an application error as the error envelope.
func writeError(w http.ResponseWriter, r *http.Request, be *billing.Error) {
	status := statusOf[be.Code]
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, status, errorBody{Error: errorObject{
		Type:      string(be.Code),
		Code:      be.Reason,
		Message:   be.Message,
		Param:     be.Param,
		RequestID: requestID(r.Context()),
	}})
}

func notFound(w http.ResponseWriter, r *http.Request) {
	renderError(w, r, &billing.Error{Code: billing.ENotFound, Reason: "route_not_found",
		Message: "no such route: " + r.Method + " " + r.URL.Path})
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	renderError(w, r, &billing.Error{Code: eMethodNotAllowed, Reason: "method_not_allowed",
		Message: r.Method + " is not allowed on " + r.URL.Path})
}
