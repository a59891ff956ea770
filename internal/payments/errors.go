package payments

import (
	"errors"

	"github.com/billingd/billingd/internal/billing"
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
	// Failures that are not the customer's get billingd's own code, so
	// dunning never counts them against the customer (the PG's text stays).
	switch {
	case errors.Is(err, providers.ErrAuth):
		return billing.FailurePGAuth, "the PG refused the merchant account's credentials: " + message
	case errors.Is(err, providers.ErrRejected) && billing.IsConfigurationRefusal(pe.PGMessage):
		return billing.FailurePGConfiguration, message
	}
	return code, message
}

// providerError is gateways.Error; a failure that is not the PG's (the
// adapter could not even be built) stays as it is.
func providerError(op string, err error, objectType string, obj any) error {
	return gateways.Error(op, err, objectType, obj)
}
