package billing

import "time"

// PaymentStatus is where a payment is in its life:
//
//	processing ─▶ paid ─▶ partially_refunded ─▶ refunded
//	     ├──────▶ failed
//	     └──────▶ unknown ─(reconcile)─▶ paid | failed
//	scheduled ─(PG runs it)─▶ paid | failed;  scheduled ─unschedule─▶ canceled
//	failed ─(the PG's API says paid)─▶ paid   (a correction: "recovered")
//
// Transitions only move forward: a late or repeated PG answer never turns
// paid into failed, nor refunded into paid. The one step back is failed to
// paid, when the PG's own record (a lookup, matched against the payment)
// says money moved after all: recording it beats losing a charge, and the
// event says it was recovered.
type PaymentStatus string

const (
	PaymentProcessing        PaymentStatus = "processing"
	PaymentPaid              PaymentStatus = "paid"
	PaymentFailed            PaymentStatus = "failed"
	PaymentUnknown           PaymentStatus = "unknown"
	PaymentPartiallyRefunded PaymentStatus = "partially_refunded"
	PaymentRefunded          PaymentStatus = "refunded"
	PaymentScheduled         PaymentStatus = "scheduled"
	PaymentCanceled          PaymentStatus = "canceled"
)

// PaymentStatuses lists every status, for validating filters.
var PaymentStatuses = []PaymentStatus{PaymentProcessing, PaymentPaid, PaymentFailed, PaymentUnknown,
	PaymentPartiallyRefunded, PaymentRefunded, PaymentScheduled, PaymentCanceled}

// Unsettled reports whether the payment's outcome at the PG is not known
// yet: it must be reconciled before anything else is done with it.
func (s PaymentStatus) Unsettled() bool { return s == PaymentProcessing || s == PaymentUnknown }

// Refundable reports whether money can still be returned.
func (s PaymentStatus) Refundable() bool { return s == PaymentPaid || s == PaymentPartiallyRefunded }

// Payment is one charge of a billing key. Its id is the PG order id
// (Iamport merchant_uid, Bootpay order_id), fixed before the PG is called.
type Payment struct {
	ID                string         `json:"id"`
	MerchantID        string         `json:"-"`
	Mode              Mode           `json:"mode"`
	CustomerID        string         `json:"customer_id"`
	BillingKeyID      string         `json:"billing_key_id"`
	ProviderAccountID string         `json:"-"`
	Provider          string         `json:"provider"`
	Amount            int64          `json:"amount"`
	TaxFree           int64          `json:"tax_free"`
	Currency          string         `json:"currency"`
	OrderName         string         `json:"order_name"`
	Status            PaymentStatus  `json:"status"`
	RefundedAmount    int64          `json:"refunded_amount"`
	ProviderPaymentID *string        `json:"provider_payment_id"` // imp_uid / receipt_id
	PG                *string        `json:"pg"`
	CardName          *string        `json:"card_name"`
	CardNumber        *string        `json:"card_number"`
	ReceiptURL        *string        `json:"receipt_url"`
	FailureCode       *string        `json:"failure_code"`
	FailureMessage    *string        `json:"failure_message"`
	Metadata          map[string]any `json:"metadata"`
	PaidAt            *time.Time     `json:"paid_at"`
	FailedAt          *time.Time     `json:"failed_at"`
	ScheduledAt       *time.Time     `json:"scheduled_at"`
	SubscriptionID    *string        `json:"subscription_id"`
	Period            *int           `json:"period"`
	PeriodStart       *time.Time     `json:"period_start"`
	// ProviderScheduleID is the PG's id for a scheduled payment (Bootpay
	// reserve_id); Iamport schedules by order id and has none.
	ProviderScheduleID *string   `json:"-"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
}

// Refundable is what may still be returned.
func (p Payment) Refundable() int64 { return p.Amount - p.RefundedAmount }

// Outcome is what the PG says became of a payment, in billingd's terms.
type Outcome struct {
	Status            PaymentStatus // paid, failed or unknown
	ProviderPaymentID string
	PG                string
	CardName          string
	CardNumber        string
	ReceiptURL        string
	FailureCode       string
	FailureMessage    string
	At                time.Time // when it was paid or failed
	// CancelledAmount is the PG's cumulative cancelled total, when known.
	CancelledAmount int64
}

// settleFrom lists, per outcome, the states a payment may leave for it.
var settleFrom = map[PaymentStatus][]PaymentStatus{
	PaymentPaid:    {PaymentProcessing, PaymentUnknown, PaymentScheduled, PaymentFailed},
	PaymentFailed:  {PaymentProcessing, PaymentUnknown, PaymentScheduled},
	PaymentUnknown: {PaymentProcessing},
}

// SettleFrom returns the states from which a payment may move to status.
func SettleFrom(status PaymentStatus) []PaymentStatus { return settleFrom[status] }
