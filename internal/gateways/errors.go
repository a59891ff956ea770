package gateways

import (
	"errors"
	"fmt"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/providers"
)

// Error turns a PG adapter's failure into what the merchant sees — never a
// 500, since the PG refusing or failing is not billingd's fault:
//   - a decline is a card_error (402) with the PG's reason;
//   - a refusal, refused credentials or no usable answer is a
//     provider_error (502).
//
// The PG's code is provider_code. obj, when given, is the object the
// failure left behind (a failed payment), rendered inside the error.
// Errors that are not PG failures pass through unchanged.
func Error(op string, err error, objectType string, obj any) error {
	pe, ok := providers.AsError(err)
	if !ok {
		return err
	}
	be := &billing.Error{Code: billing.EProvider, ProviderCode: pe.PGCode, Err: err, ObjectType: objectType, Object: obj}
	switch {
	case errors.Is(err, providers.ErrDeclined):
		be.Code, be.Reason = billing.EDeclined, "card_declined"
		be.Message = fmt.Sprintf("%s: declined by the PG", op)
		if pe.PGMessage != "" {
			// The issuer's reason ("잔액부족") is what the merchant needs.
			be.Message += " (" + pe.PGMessage + ")"
		}
	case errors.Is(err, providers.ErrAuth):
		be.Reason = "provider_authentication_failed"
		be.Message = fmt.Sprintf("%s: %s refused the merchant's credentials; check the provider account", op, pe.Provider)
	case errors.Is(err, providers.ErrRejected), errors.Is(err, providers.ErrNotFound):
		be.Reason = "provider_rejected"
		be.Message = fmt.Sprintf("%s: refused by %s", op, pe.Provider)
	default:
		be.Reason = "provider_unavailable"
		be.Message = fmt.Sprintf("%s: %s could not be reached or gave no usable answer; retry later", op, pe.Provider)
	}
	if pe.PGCode != "" && be.Code != billing.EDeclined {
		be.Message += " (provider_code " + pe.PGCode + ")"
	}
	return be
}
