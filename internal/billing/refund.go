package billing

import "time"

// RefundStatus is where a refund is: pending while the PG is asked,
// succeeded or failed when it answered, unknown when the answer was lost.
type RefundStatus string

const (
	RefundPending   RefundStatus = "pending"
	RefundSucceeded RefundStatus = "succeeded"
	RefundFailed    RefundStatus = "failed"
	RefundUnknown   RefundStatus = "unknown"
)

// Refund returns all or part of a paid payment.
type Refund struct {
	ID               string       `json:"id"`
	PaymentID        string       `json:"payment_id"`
	MerchantID       string       `json:"-"`
	Mode             Mode         `json:"mode"`
	Amount           int64        `json:"amount"`
	TaxFree          int64        `json:"tax_free"`
	Reason           string       `json:"reason"`
	Status           RefundStatus `json:"status"`
	RefundableBefore int64        `json:"-"`
	FailureCode      *string      `json:"failure_code"`
	FailureMessage   *string      `json:"failure_message"`
	CreatedAt        time.Time    `json:"created_at"`
	UpdatedAt        time.Time    `json:"updated_at"`
}
