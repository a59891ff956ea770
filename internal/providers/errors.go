package providers

import (
	"errors"
	"fmt"
)

// The error classes the money logic branches on. Adapters return an *Error
// whose Kind is one of these; test with errors.Is(err, providers.ErrDeclined).
var (
	// ErrDeclined: the PG processed the request and definitively refused it
	// (card declined, insufficient funds). No money moved; retrying the same
	// order is pointless.
	ErrDeclined = errors.New("declined by the PG")
	// ErrRejected: the PG refused the request before any money could move
	// (unknown billing key, bad parameters, duplicate order id, PG not
	// configured). Definitive for this request.
	ErrRejected = errors.New("rejected by the PG")
	// ErrUnknown: the request may or may not have taken effect (timeout,
	// connection reset after the request left, 5xx, unreadable reply). The
	// caller must reconcile by asking the PG, never guess.
	ErrUnknown = errors.New("outcome unknown")
	// ErrAuth: the PG refused our credentials. Nothing was done.
	ErrAuth = errors.New("PG authentication failed")
	// ErrNotFound: the PG has no such object (payment, billing key,
	// certificate). Returned by lookups only.
	ErrNotFound = errors.New("not found at the PG")
)

// Error is the error every adapter returns for a failed PG call. It carries
// the PG's own code and message so they can be shown to the merchant as
// provider_code, and unwraps to its Kind (one of the Err* sentinels above).
type Error struct {
	Kind      error  // ErrDeclined, ErrRejected, ErrUnknown, ErrAuth or ErrNotFound
	Provider  string // "iamport", "bootpay"
	Op        string // adapter operation, e.g. "charge"
	PGCode    string // the PG's code as text ("-1", "SUBSCRIBE_REQUEST_FAILED"); may be empty
	PGMessage string // the PG's message; may be empty
	// Payment is the PG's view of the payment when the PG returned one with
	// the failure (a decline is reported with the failed payment).
	Payment *Payment
	Err     error // underlying transport or decoding error, if any
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s %s: %v", e.Provider, e.Op, e.Kind)
	if e.PGCode != "" {
		msg += " (code " + e.PGCode + ")"
	}
	if e.PGMessage != "" {
		msg += ": " + e.PGMessage
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap lets errors.Is match both the Kind and the underlying cause.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

// AsError returns the *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var pe *Error
	ok := errors.As(err, &pe)
	return pe, ok
}
