package payments

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/billing"
)

// RecoveredPayment is the data of the payment.paid event of a payment
// that billingd had recorded as failed and the PG's API then reported
// paid: the payment, and what it was recovered from.
type RecoveredPayment struct {
	billing.Payment
	RecoveredFrom billing.PaymentStatus `json:"recovered_from"`
	// PeriodBilledTwice: the payment's subscription period already had
	// another live payment (a dunning retry), so the period is paid twice
	// and one of them should be refunded.
	PeriodBilledTwice bool `json:"period_billed_twice,omitempty"`
}

// afterRecovered records the correction of a failed payment to paid (the
// PG's own record says money moved): a payment.paid event marked as
// recovered, and the subscription period paid — unless another attempt
// already paid (or is paying) that period, which the event then says.
func (s *Service) afterRecovered(ctx context.Context, tx pgx.Tx, p, before billing.Payment) error {
	data := RecoveredPayment{Payment: p, RecoveredFrom: before.Status}
	if p.SubscriptionID != nil && p.PeriodStart != nil {
		twice, err := s.store.OtherLivePeriodPayment(ctx, tx, *p.SubscriptionID, *p.PeriodStart, p.ID)
		if err != nil {
			return err
		}
		data.PeriodBilledTwice = twice
	}
	s.log.Warn().Str("payment", p.ID).Bool("period_billed_twice", data.PeriodBilledTwice).
		Msg("a payment recorded as failed is paid at the PG; recorded as paid")
	if err := s.event(ctx, tx, p.MerchantID, p.Mode, billing.EventPaymentPaid, "payment", p.ID, data); err != nil {
		return err
	}
	if data.PeriodBilledTwice {
		return nil // the other attempt moves (or moved) the subscription
	}
	return s.afterSubscriptionSettle(ctx, tx, p)
}
