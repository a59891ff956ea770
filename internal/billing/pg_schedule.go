package billing

import "time"

// PGSchedule says whether anything of a subscription is still registered
// at the PG to be charged later, so a merchant can see that a cancel or a
// pause has really reached the PG.
type PGSchedule struct {
	// Status is one of the PGSchedule* values.
	Status      string     `json:"status"`
	PaymentID   *string    `json:"payment_id,omitempty"`
	ScheduledAt *time.Time `json:"scheduled_at,omitempty"`
}

// PG schedule states of a subscription.
const (
	// PGScheduleNone: nothing is waiting at the PG.
	PGScheduleNone = "none"
	// PGScheduleScheduled: the PG confirmed it holds the next payment.
	PGScheduleScheduled = "scheduled"
	// PGScheduleUnconfirmed: the registration's answer is pending or was
	// lost; billingd keeps asking, and it may still run.
	PGScheduleUnconfirmed = "unconfirmed"
	// PGScheduleRevoking: the subscription was canceled or paused and
	// billingd is revoking the payment at the PG (retrying until the PG
	// confirms; a charge the PG ran anyway is refunded).
	PGScheduleRevoking = "revoking"
)

// Subscription status reasons: why a subscription stopped billing when its
// status alone does not say.
const (
	// ReasonBillingKeyInactive: the subscription's billing key (or the
	// customer's default) is deleted or no longer active. The subscription
	// is unpaid and is not retried until a PATCH gives it an active key.
	ReasonBillingKeyInactive = "billing_key_inactive"
	// ReasonRetriesExhausted: dunning ran out of retries.
	ReasonRetriesExhausted = "retries_exhausted"
	// ReasonHardDecline: the card is lost, stolen or closed.
	ReasonHardDecline = "hard_decline"
)
