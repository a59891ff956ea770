package api

import (
	"encoding/json"
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
	billing.EDeclined:     http.StatusPaymentRequired,
	billing.EProvider:     http.StatusBadGateway,
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
func renderError(w http.ResponseWriter, r *http.Request, err error) {
	var be *billing.Error
	if !errors.As(err, &be) || statusOf[be.Code] == 0 || be.Code == billing.EInternal {
		zerolog.Ctx(r.Context()).Error().Err(err).Msg("internal error")
		be = errInternal
	}
	writeError(w, r, be)
}

// errorStatus is the status renderError answers err with: 0 for nil.
func errorStatus(err error) int {
	if err == nil {
		return 0
	}
	var be *billing.Error
	if !errors.As(err, &be) || statusOf[be.Code] == 0 || be.Code == billing.EInternal {
		return http.StatusInternalServerError
	}
	return statusOf[be.Code]
}

// errInternal is all a client learns about our own failures.
var errInternal = &billing.Error{Code: billing.EInternal, Message: "internal error; quote the request_id when you contact support"}

// writeError writes an application error as the error envelope.
func writeError(w http.ResponseWriter, r *http.Request, be *billing.Error) {
	status := statusOf[be.Code]
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
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
