package billing

import (
	"errors"
	"fmt"
)

// Code classifies an application error. internal/api maps each to one HTTP
// status; the strings are the public "type" of the error.
type Code string

const (
	EInvalid      Code = "invalid_request"      // the request is malformed or fails validation
	EUnauthorized Code = "authentication_error" // no or bad credentials
	EForbidden    Code = "permission_error"     // credentials fine, operation not allowed for them
	ENotFound     Code = "not_found"            // no such object for this merchant and mode
	EConflict     Code = "conflict"             // clashes with existing state (duplicate, wrong state)
	EIdempotency  Code = "idempotency_error"    // Idempotency-Key misuse
	ERateLimited  Code = "rate_limited"         // too many requests
	EInternal     Code = "internal_error"       // our fault; details are logged, not shown
	EDeclined     Code = "card_error"           // the PG declined: no money moved
	EProvider     Code = "provider_error"       // the PG refused the request or could not be reached
)

// Error is an error the caller may see. Message is safe to show to the
// merchant: it never carries secrets or personal data.
type Error struct {
	Code    Code
	Reason  string // machine-readable detail, e.g. "external_id_taken"; optional
	Message string
	Param   string // the request field at fault, if any
	// ProviderCode is the PG's own code when the PG refused.
	ProviderCode string
	// Object is the object the failure left behind (a failed payment, a
	// failed billing key), rendered inside the error as ObjectType.
	Object     any
	ObjectType string
	Err        error // cause, for logs; never shown
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EInvalid error about one request field.
func Invalid(param, format string, args ...any) *Error {
	return &Error{Code: EInvalid, Reason: "parameter_invalid", Param: param, Message: fmt.Sprintf(format, args...)}
}

// NotFound returns an ENotFound error for an object of the given kind.
func NotFound(kind, id string) *Error {
	return &Error{Code: ENotFound, Reason: "resource_missing", Message: fmt.Sprintf("no such %s: %q", kind, id)}
}

// ErrorCode returns the Code of the *Error in err's chain, or EInternal.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}
