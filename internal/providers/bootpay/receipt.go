package bootpay

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/billingd/billingd/internal/providers"
)

// Receipt statuses the adapter branches on (reference §4; paymentStatus
// lists the rest). v2 documents a subset; the negative v1 codes are kept
// because v2 has not been shown to drop them.
const (
	statusPaid             = 1
	statusBillingKeyIssued = 11
	statusVerified         = 12
	statusCancelled        = 20
	statusFailedBefore     = -1
	statusApprovalFailed   = -2
)

// v2Receipt is the v2 receipt object (GET /receipt, subscribe payment and
// cancel replies).
type v2Receipt struct {
	ReceiptID      string   `json:"receipt_id"`
	OrderID        string   `json:"order_id"`
	Price          amount   `json:"price"`
	TaxFree        amount   `json:"tax_free"`
	CancelledPrice amount   `json:"cancelled_price"`
	PG             string   `json:"pg"`
	Method         string   `json:"method"`
	MethodSymbol   string   `json:"method_symbol"`
	RequestedAt    wireTime `json:"requested_at"`
	PurchasedAt    wireTime `json:"purchased_at"`
	CancelledAt    wireTime `json:"cancelled_at"`
	Status         flexInt  `json:"status"`
	StatusLocale   string   `json:"status_locale"`
	ReceiptURL     string   `json:"receipt_url"`
	Currency       string   `json:"currency"`
	Sandbox        bool     `json:"sandbox"`
	CardData       *struct {
		CardNo      string `json:"card_no"`
		CardCompany string `json:"card_company"`
		ReceiptURL  string `json:"receipt_url"`
	} `json:"card_data"`
}

// v1Receipt is the v1 receipt data (GET /receipt and the subscribe billing
// reply, which carries the card fields at the top level).
type v1Receipt struct {
	ReceiptID      string   `json:"receipt_id"`
	OrderID        string   `json:"order_id"`
	Price          amount   `json:"price"`
	TaxFree        amount   `json:"tax_free"`
	CancelledPrice amount   `json:"cancelled_price"`
	ReceiptURL     string   `json:"receipt_url"`
	Unit           string   `json:"unit"`
	PG             string   `json:"pg"`
	Method         string   `json:"method"`
	CardName       string   `json:"card_name"`
	CardNo         string   `json:"card_no"`
	RequestedAt    wireTime `json:"requested_at"`
	PurchasedAt    wireTime `json:"purchased_at"`
	RevokedAt      wireTime `json:"revoked_at"`
	Status         flexInt  `json:"status"`
	PaymentData    *struct {
		CardName string `json:"card_name"`
		CardNo   string `json:"card_no"`
	} `json:"payment_data"`
}

// paymentStatus normalises a receipt status. Bootpay keeps status 1 after a
// partial cancel (and some replies say 20 for a partial cancel), so the
// cancelled amount, not the code, tells a full cancel from a partial one.
func paymentStatus(status, price, cancelled int64) providers.PaymentStatus {
	switch {
	case status == statusCancelled && cancelled >= price:
		return providers.StatusCancelled
	case status == statusPaid || status == statusCancelled || status == -20 || status == -30:
		// -20 cancel failed, -30 cancel in progress: the money is still paid.
		return providers.StatusPaid
	case status == statusFailedBefore || status == statusApprovalFailed:
		return providers.StatusFailed
	default:
		// 0 waiting, 2 awaiting confirm, 3 approving, 5 virtual account
		// issued, 11 billing key, anything new: not paid, not failed.
		return providers.StatusPending
	}
}

// parseReceipt decodes a receipt in the configured generation's shape.
func (c *Client) parseReceipt(raw []byte) (providers.Payment, error) {
	if c.v1 {
		var r v1Receipt
		if err := json.Unmarshal(raw, &r); err != nil {
			return providers.Payment{}, err
		}
		return r.payment(), nil
	}
	var r v2Receipt
	if err := json.Unmarshal(raw, &r); err != nil {
		return providers.Payment{}, err
	}
	return r.payment(), nil
}

func (r v2Receipt) payment() providers.Payment {
	p := providers.Payment{
		ProviderID: r.ReceiptID, OrderID: r.OrderID,
		Amount: int64(r.Price), CancelledAmount: int64(r.CancelledPrice),
		Currency: firstNonEmpty(r.Currency, "KRW"), PG: r.PG, PayMethod: firstNonEmpty(r.MethodSymbol, r.Method),
		ReceiptURL: r.ReceiptURL, TestChannel: r.Sandbox,
	}
	p.Status = paymentStatus(int64(r.Status), p.Amount, p.CancelledAmount)
	if r.CardData != nil {
		p.CardName, p.CardNumber = r.CardData.CardCompany, r.CardData.CardNo
		p.ReceiptURL = firstNonEmpty(p.ReceiptURL, r.CardData.ReceiptURL)
	}
	p.PaidAt, p.CancelledAt = paidAt(p.Status, r.PurchasedAt.Time), r.CancelledAt.Time
	if p.Status == providers.StatusFailed {
		p.FailedAt, p.FailReason = r.RequestedAt.Time, r.StatusLocale
	}
	return p
}

func (r v1Receipt) payment() providers.Payment {
	p := providers.Payment{
		ProviderID: r.ReceiptID, OrderID: r.OrderID,
		Amount: int64(r.Price), CancelledAmount: int64(r.CancelledPrice),
		Currency: "KRW", PG: r.PG, PayMethod: r.Method, ReceiptURL: r.ReceiptURL,
		CardName: r.CardName, CardNumber: r.CardNo,
	}
	if r.Unit != "" && r.Unit != "krw" {
		p.Currency = r.Unit
	}
	if r.PaymentData != nil {
		p.CardName = firstNonEmpty(p.CardName, r.PaymentData.CardName)
		p.CardNumber = firstNonEmpty(p.CardNumber, r.PaymentData.CardNo)
	}
	p.Status = paymentStatus(int64(r.Status), p.Amount, p.CancelledAmount)
	p.PaidAt, p.CancelledAt = paidAt(p.Status, r.PurchasedAt.Time), r.RevokedAt.Time
	if p.Status == providers.StatusFailed {
		p.FailedAt = r.RequestedAt.Time
	}
	return p
}

func paidAt(s providers.PaymentStatus, t time.Time) time.Time {
	if s == providers.StatusPaid || s == providers.StatusCancelled {
		return t
	}
	return time.Time{}
}

// receiptIndexSize bounds the order_id → receipt_id index; candidatesPerOrder
// bounds the receipt ids remembered for one order.
const (
	receiptIndexSize   = 1 << 16
	candidatesPerOrder = 4
)

// receiptIndex remembers which receipts Bootpay gave each order_id, because
// Bootpay has no lookup by order_id (see FindPayment). An order may have
// several candidates: webhooks are unsigned hints, so a forged one must not
// be able to displace the receipt a charge reply named. Every candidate is
// verified against Bootpay before use. The index is bounded: the oldest
// orders are forgotten first.
type receiptIndex struct {
	mu    sync.Mutex
	byOrd map[string][]string
	ring  []string
	next  int
}

func (x *receiptIndex) init(n int) {
	x.byOrd = make(map[string][]string, 1024)
	x.ring = make([]string, n)
}

func (x *receiptIndex) put(orderID, receiptID string) {
	if orderID == "" || receiptID == "" {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	ids, ok := x.byOrd[orderID]
	if !ok {
		if old := x.ring[x.next]; old != "" {
			delete(x.byOrd, old)
		}
		x.ring[x.next] = orderID
		x.next = (x.next + 1) % len(x.ring)
	}
	for _, id := range ids {
		if id == receiptID {
			return
		}
	}
	if len(ids) == candidatesPerOrder {
		ids = ids[1:]
	}
	x.byOrd[orderID] = append(ids[:len(ids):len(ids)], receiptID)
}

// get returns the order's candidate receipt ids, newest last.
func (x *receiptIndex) get(orderID string) []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]string(nil), x.byOrd[orderID]...)
}
