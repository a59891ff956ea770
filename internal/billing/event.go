package billing

import "time"

// Event types. Every state change writes one event in the same transaction
// as the change (the outbox merchant webhooks are delivered from).
const (
	EventBillingKeyActivated = "billing_key.activated"
	EventBillingKeyFailed    = "billing_key.failed"
	EventBillingKeyDeleted   = "billing_key.deleted"
	EventPaymentPaid         = "payment.paid"
	EventPaymentFailed       = "payment.failed"
	EventPaymentUnknown      = "payment.unknown"
	EventPaymentRefunded     = "payment.refunded"
	EventRefundSucceeded     = "refund.succeeded"
	EventRefundFailed        = "refund.failed"
	EventRefundUnknown       = "refund.unknown"
	// EventPaymentPGMismatch: the PG answered about a payment with
	// something other than what billingd sent (see payments.ErrPGMismatch);
	// the answer was not applied and needs a person.
	EventPaymentPGMismatch = "payment.pg_mismatch"
)

// Event records one state change of one object, with the object as it was
// right after the change.
type Event struct {
	ID         string    `json:"id"`
	MerchantID string    `json:"-"`
	Mode       Mode      `json:"mode"`
	Type       string    `json:"type"`
	ObjectType string    `json:"object_type"`
	ObjectID   string    `json:"object_id"`
	Data       any       `json:"data"`
	CreatedAt  time.Time `json:"created_at"`
}

// NewEvent builds an event about obj.
func NewEvent(merchantID string, mode Mode, typ, objectType, objectID string, obj any) Event {
	return Event{ID: NewID(PrefixEvent), MerchantID: merchantID, Mode: mode, Type: typ,
		ObjectType: objectType, ObjectID: objectID, Data: obj}
}
