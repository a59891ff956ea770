package payments

import (
	"github.com/billingd/billingd/internal/gateways"
	"github.com/billingd/billingd/internal/providers"
)

// failureOf is the code and message to record for a PG failure. The PG's
// message is its own text about the card or request; it carries no secret.
func failureOf(err error) (code, message string) {
	pe, ok := providers.AsError(err)
	if !ok {
		return "provider_error", "the PG could not be reached"
	}
	code, message = pe.PGCode, pe.PGMessage
	if message == "" {
		message = pe.Kind.Error()
	}
	return code, message
}

// providerError is gateways.Error; a failure that is not the PG's (the
// adapter could not even be built) stays as it is.
func providerError(op string, err error, objectType string, obj any) error {
	return gateways.Error(op, err, objectType, obj)
}
