package providers

import (
	"context"
	"time"
)

// Provider names as stored in provider accounts.
const (
	Iamport = "iamport"
	Bootpay = "bootpay"
	Portone = "portone" // PortOne V2 (Iamport is PortOne V1)
)

// PaymentStatus is the PG's view of one payment, normalised across PGs.
type PaymentStatus string

const (
	StatusPending   PaymentStatus = "pending"   // created or ready, not paid (window abandoned, not yet run)
	StatusPaid      PaymentStatus = "paid"      // money moved; may be partially cancelled (see CancelledAmount)
	StatusFailed    PaymentStatus = "failed"    // declined or errored; no money moved
	StatusCancelled PaymentStatus = "cancelled" // fully cancelled after being paid
	// StatusUnknown: the PG reported a status the adapter does not know.
	// Nothing may be concluded from it; the payment stays unsettled.
	StatusUnknown PaymentStatus = "unknown"
)

// ChannelAPI is the channel of a payment made over the PG's REST API.
const ChannelAPI = "api"

// Payment is what a PG reports about one payment.
type Payment struct {
	ProviderID      string // imp_uid (Iamport) or receipt_id (Bootpay)
	OrderID         string // merchant_uid (Iamport) or order_id (Bootpay): billingd's payment id
	Status          PaymentStatus
	Amount          int64 // KRW, no minor unit
	CancelledAmount int64 // cumulative
	Currency        string
	BillingKey      string // customer_uid / billing_key the payment was made with, when reported
	// Channel is how the payment was made, when the PG says: ChannelAPI for
	// a server-to-server charge (all billingd makes), else a browser or app.
	Channel string
	// TestChannel means the PG made it on a test channel (Iamport
	// "sandbox", Bootpay "sandbox"): no money moved.
	TestChannel bool
	PG          string // the underlying PG (e.g. "nice", "payco")
	PayMethod   string
	CardName    string
	CardNumber  string // masked as the PG returns it
	ReceiptURL  string
	FailCode    string
	FailReason  string
	PaidAt      time.Time // zero when not paid
	FailedAt    time.Time
	CancelledAt time.Time
}

// BillingKey is what a PG reports about a registered billing key.
type BillingKey struct {
	// Key is the value billingd charges with: the customer_uid for Iamport,
	// the billing_key for Bootpay.
	Key        string
	PG         string
	PGID       string // MID, when reported
	CardName   string
	CardNumber string // masked
	CardType   string // "credit", "check" or "" when unknown
	IssuedAt   time.Time
	// IssueID, CustomerID and StoreID are what the PG recorded about the
	// registration that issued the key (PortOne V2: issueId, customer.id,
	// storeId), so the caller can refuse a key issued for someone else.
	// Empty where the PG does not report them.
	IssueID    string
	CustomerID string
	StoreID    string
}

// VerifyBillingKeyRequest identifies a billing key that a payment window has
// issued, so the adapter can confirm it server-side.
type VerifyBillingKeyRequest struct {
	// Key is the billing key alias billingd allocated (Iamport customer_uid).
	Key string
	// ReceiptID is the window's receipt (Bootpay); empty for Iamport.
	ReceiptID string
	// IssueID and CustomerID, when set, are the registration billingd
	// opened (PortOne V2 issueId, customer.id): an adapter that can see
	// them refuses a key issued for another registration or customer.
	IssueID    string
	CustomerID string
}

// CardData is raw card input for PGs that issue billing keys over REST. It
// passes through memory only: adapters never log or keep it.
type CardData struct {
	Number    string // digits only
	Expiry    string // YYYY-MM
	Birth     string // YYMMDD, or a 10-digit business number
	Password2 string // first two digits of the card password
}

// IssueBillingKeyRequest asks a REST-issuing PG for a billing key.
type IssueBillingKeyRequest struct {
	Key       string // Iamport customer_uid allocated by billingd
	PG        string // "nice", "kcp", "nice.MID" …
	OrderName string
	Card      CardData
	Buyer     Buyer
	// CustomerID names the customer at PGs that record one (PortOne V2
	// customer.id); NoticeURL receives the issuance's webhooks there.
	CustomerID string
	NoticeURL  string
}

// Buyer is the customer data some PGs require or display.
type Buyer struct {
	Name  string
	Email string
	Phone string
}

// ChargeRequest charges a billing key now.
type ChargeRequest struct {
	OrderID    string // billingd's payment id, fixed before the call
	BillingKey string
	Amount     int64
	TaxFree    int64
	OrderName  string
	Buyer      Buyer
	NoticeURL  string // billingd's webhook URL for the account
	CustomData string // JSON text echoed back by the PG
}

// CancelRequest cancels (refunds) all or part of a paid payment.
type CancelRequest struct {
	ProviderID string // imp_uid / receipt_id; OrderID is used when empty
	OrderID    string
	Amount     int64 // 0 cancels the remaining balance
	// Refundable is billingd's view of the balance still refundable before
	// this cancel; PGs that support it (Iamport checksum) refuse the cancel
	// when their view differs.
	Refundable int64
	TaxFree    int64
	Reason     string
	CancelID   string // billingd's refund id, for PGs that take one
}

// Provider is the contract every PG adapter implements. An instance is bound
// to one provider account (credentials and base URL).
type Provider interface {
	// Name is the provider's name, e.g. "iamport".
	Name() string
	// VerifyBillingKey confirms that a window-issued billing key exists and
	// returns its details. ErrNotFound when the PG has no such key.
	VerifyBillingKey(ctx context.Context, req VerifyBillingKeyRequest) (BillingKey, error)
	// IssueBillingKey issues a key over REST. PGs that issue only through a
	// payment window return ErrRejected.
	IssueBillingKey(ctx context.Context, req IssueBillingKeyRequest) (BillingKey, error)
	// DeleteBillingKey removes the key at the PG. ErrNotFound when already gone.
	DeleteBillingKey(ctx context.Context, key string) error
	// Charge charges a billing key. A nil error means paid. A decline is an
	// *Error of kind ErrDeclined carrying the failed Payment; a call whose
	// outcome is not known is ErrUnknown and is never retried here.
	Charge(ctx context.Context, req ChargeRequest) (Payment, error)
	// FindPayment looks a payment up by billingd's order id. ErrNotFound when
	// the PG never saw that order.
	FindPayment(ctx context.Context, orderID string) (Payment, error)
	// GetPayment looks a payment up by the PG's own id.
	GetPayment(ctx context.Context, providerID string) (Payment, error)
	// Cancel refunds all or part of a payment and returns the PG's updated view.
	Cancel(ctx context.Context, req CancelRequest) (Payment, error)
}

// ScheduleRequest asks the PG to charge a billing key at a given time.
type ScheduleRequest struct {
	OrderID    string // billingd's payment id, fixed before the call
	BillingKey string
	At         time.Time
	Amount     int64
	TaxFree    int64
	OrderName  string
	Buyer      Buyer
	NoticeURL  string // where the PG reports the run
}

// ScheduleState is a scheduled charge as the PG sees it.
type ScheduleState string

const (
	SchedulePending  ScheduleState = "scheduled" // not run yet
	ScheduleExecuted ScheduleState = "executed"  // run; the payment says how it went
	ScheduleRevoked  ScheduleState = "revoked"   // unscheduled
)

// Schedule is the PG's record of one scheduled charge.
type Schedule struct {
	State ScheduleState
	// ProviderPaymentID is the resulting payment once executed (imp_uid,
	// receipt_id); look it up with GetPayment.
	ProviderPaymentID string
}

// Scheduler is implemented for PGs that run scheduled charges themselves
// (Iamport schedule, Bootpay reserve).
type Scheduler interface {
	// Schedule registers the charge and returns the PG's id for it (empty
	// when the PG names schedules by order id).
	Schedule(ctx context.Context, req ScheduleRequest) (scheduleID string, err error)
	// Unschedule revokes it. A charge that already ran (or was revoked)
	// is ErrRejected: the caller must then find out what happened.
	Unschedule(ctx context.Context, billingKey, orderID, scheduleID string) error
	// LookupSchedule reads the PG's record. ErrNotFound when unknown.
	LookupSchedule(ctx context.Context, orderID, scheduleID string) (Schedule, error)
}
