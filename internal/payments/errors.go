package payments

import (
	"errors"
	"fmt"

	"github.com/billingd/billingd/internal/billing"
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

// providerError turns a PG failure into the error the merchant sees: a
// decline is a card_error (402), anything else a provider_error (502). obj,
// when given, is the object the failure left behind.
func providerError(op string, err error, objectType string, obj any) error {
	be := &billing.Error{Code: billing.EProvider, Reason: "provider_error", Err: err, ObjectType: objectType, Object: obj}
	pe, _ := providers.AsError(err)
	if pe != nil {
		be.ProviderCode = pe.PGCode
	}
	switch {
	case errors.Is(err, providers.ErrDeclined):
		be.Code, be.Reason = billing.EDeclined, "card_declined"
		be.Message = fmt.Sprintf("%s: declined by the PG", op)
	case errors.Is(err, providers.ErrRejected):
		be.Reason = "provider_rejected"
		be.Message = fmt.Sprintf("%s: refused by the PG", op)
	case errors.Is(err, providers.ErrAuth):
		be.Reason = "provider_auth_failed"
		be.Message = fmt.Sprintf("%s: the PG refused billingd's credentials for this account; check the provider account", op)
	default:
		be.Reason = "provider_unavailable"
		be.Message = fmt.Sprintf("%s: the PG could not be reached or gave no clear answer; try again", op)
	}
	if pe != nil && pe.PGMessage != "" {
		be.Message += " (" + pe.PGMessage + ")"
	}
	return be
}
