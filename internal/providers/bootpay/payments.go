package bootpay

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/billingd/billingd/internal/providers"
)

// ErrNoOrderLookup is wrapped in the ErrUnknown that FindPayment returns
// for an order whose receipt_id this Client does not know. Bootpay's API
// (v1 and v2) has no lookup by order_id, so "not found" can never be
// proven: billingd must settle such a payment through the receipt_id in
// Bootpay's webhook for the order (RememberReceipt, then FindPayment, or
// GetPayment directly).
var ErrNoOrderLookup = errors.New("bootpay has no payment lookup by order_id and this order's receipt_id is not known here")

// cancelUsername is sent as the canceller's name (v2 cancel_username, v1
// name); Bootpay shows it in the merchant console.
const cancelUsername = "billingd"

type buyer struct {
	ID       string `json:"id,omitempty"`
	Username string `json:"username,omitempty"`
	Email    string `json:"email,omitempty"`
	Phone    string `json:"phone,omitempty"`
}

func buyerOf(b providers.Buyer) *buyer {
	if b == (providers.Buyer{}) {
		return nil
	}
	return &buyer{Username: b.Name, Email: b.Email, Phone: b.Phone}
}

type v2SubscribePayment struct {
	BillingKey  string          `json:"billing_key"`
	OrderName   string          `json:"order_name"`
	OrderID     string          `json:"order_id"`
	Price       int64           `json:"price"`
	TaxFree     int64           `json:"tax_free,omitempty"`
	User        *buyer          `json:"user,omitempty"`
	FeedbackURL string          `json:"feedback_url,omitempty"`
	ContentType string          `json:"content_type,omitempty"`
	Metadata    json.RawMessage `json:"metadata,omitempty"`
}

type v1Extra struct {
	RawData int `json:"raw_data"`
}

type v1SubscribeBilling struct {
	BillingKey          string  `json:"billing_key"`
	ItemName            string  `json:"item_name"`
	OrderID             string  `json:"order_id"`
	Price               int64   `json:"price"`
	TaxFree             int64   `json:"tax_free,omitempty"`
	UserInfo            *buyer  `json:"user_info,omitempty"`
	FeedbackURL         string  `json:"feedback_url,omitempty"`
	FeedbackContentType string  `json:"feedback_content_type,omitempty"`
	Extra               v1Extra `json:"extra"`
}

// Charge pays with a billing key: v2 POST /subscribe/payment, v1 POST
// /subscribe/billing. It is sent exactly once. A nil error means the
// receipt says paid (status 1) for the requested order and amount; a
// readable receipt in any other state is ErrDeclined (failed) or
// ErrUnknown (still pending), carrying the Payment.
func (c *Client) Charge(ctx context.Context, req providers.ChargeRequest) (providers.Payment, error) {
	const op = "charge"
	switch {
	case req.OrderID == "" || req.BillingKey == "":
		return providers.Payment{}, c.rejectLocal(op, "order id and billing key are required")
	case req.Amount <= 0 || req.TaxFree < 0 || req.TaxFree > req.Amount:
		return providers.Payment{}, c.rejectLocal(op, "amount must be positive and tax-free within it")
	}
	cl := call{op: op, method: http.MethodPost, write: true, payment: true}
	if c.v1 {
		cl.path, cl.route = "/subscribe/billing", "/subscribe/billing"
		// raw_data makes v1 put the PG's own reply in a failure, which is
		// what tells a PG decline from a Bootpay failure (see v1Failure).
		cl.body = v1SubscribeBilling{BillingKey: req.BillingKey, ItemName: req.OrderName, OrderID: req.OrderID,
			Price: req.Amount, TaxFree: req.TaxFree, UserInfo: buyerOf(req.Buyer), FeedbackURL: req.NoticeURL,
			FeedbackContentType: jsonIf(req.NoticeURL, "json"), Extra: v1Extra{RawData: 1}}
	} else {
		cl.path, cl.route = "/subscribe/payment", "/subscribe/payment"
		body := v2SubscribePayment{BillingKey: req.BillingKey, OrderName: req.OrderName, OrderID: req.OrderID,
			Price: req.Amount, TaxFree: req.TaxFree, User: buyerOf(req.Buyer), FeedbackURL: req.NoticeURL,
			ContentType: jsonIf(req.NoticeURL, "application/json")}
		if req.CustomData != "" && json.Valid([]byte(req.CustomData)) {
			body.Metadata = json.RawMessage(req.CustomData)
		}
		cl.body = body
	}
	var raw json.RawMessage
	if err := c.send(ctx, cl, &raw); err != nil {
		if pe, ok := providers.AsError(err); ok && errors.Is(pe.Kind, providers.ErrDeclined) && pe.Payment != nil {
			pe.Payment.OrderID, pe.Payment.BillingKey = req.OrderID, req.BillingKey
			pe.Payment.Amount, pe.Payment.Currency = req.Amount, "KRW"
			pe.Payment.Status, pe.Payment.FailedAt = providers.StatusFailed, c.now()
		}
		return providers.Payment{}, err
	}
	p, err := c.parseReceipt(raw)
	if err != nil {
		return providers.Payment{}, c.unreadable(cl, reply{status: http.StatusOK}, err)
	}
	p.BillingKey = req.BillingKey
	c.receipts.put(req.OrderID, p.ProviderID)
	switch {
	case p.OrderID != "" && p.OrderID != req.OrderID:
		return p, c.fail(cl, providers.ErrUnknown, "", "receipt is for another order", nil)
	case p.Status == providers.StatusPaid && p.Amount == req.Amount && p.CancelledAmount == 0:
		return p, nil
	case p.Status == providers.StatusFailed:
		return p, &providers.Error{Kind: providers.ErrDeclined, Provider: providers.Bootpay, Op: op,
			PGCode: p.FailCode, PGMessage: clip(p.FailReason), Payment: &p}
	default:
		// Pending, approving, or paid for a different amount: money may
		// have moved in a way we did not ask for. Reconcile, never guess.
		return p, &providers.Error{Kind: providers.ErrUnknown, Provider: providers.Bootpay, Op: op,
			PGMessage: "receipt is not paid for the requested amount", Payment: &p}
	}
}

func jsonIf(url, v string) string {
	if url == "" {
		return ""
	}
	return v
}

// Receipt looks a payment up by receipt_id: GET /receipt/{receipt_id}.
func (c *Client) Receipt(ctx context.Context, receiptID string) (providers.Payment, error) {
	return c.receipt(ctx, "receipt", receiptID)
}

// GetPayment is Receipt, for the providers.Provider contract.
func (c *Client) GetPayment(ctx context.Context, providerID string) (providers.Payment, error) {
	return c.receipt(ctx, "get_payment", providerID)
}

func (c *Client) receipt(ctx context.Context, op, receiptID string) (providers.Payment, error) {
	if receiptID == "" {
		return providers.Payment{}, c.rejectLocal(op, "receipt id is required")
	}
	cl := call{op: op, method: http.MethodGet, path: "/receipt/" + url.PathEscape(receiptID), route: "/receipt/{receipt_id}", notFound: true}
	var raw json.RawMessage
	if err := c.send(ctx, cl, &raw); err != nil {
		return providers.Payment{}, err
	}
	p, err := c.parseReceipt(raw)
	if err != nil {
		return providers.Payment{}, c.unreadable(cl, reply{status: http.StatusOK}, err)
	}
	if p.ProviderID == "" {
		p.ProviderID = receiptID
	}
	c.receipts.put(p.OrderID, p.ProviderID)
	return p, nil
}

// FindPayment looks a payment up by billingd's order id.
//
// Bootpay has no lookup by order_id in either generation (reference §4, §8;
// none of the official SDKs has one). The adapter therefore remembers the
// receipt_ids it has seen for each order — from charge replies, receipt
// lookups and RememberReceipt (fed from Bootpay's webhook, which carries
// both ids) — and reads those receipts, keeping the one whose order_id is
// this order.
//
// Limitation: the index lives in this process's memory (bounded, lost on
// restart, not shared between replicas). When the charge reply was lost (a
// timeout) and no webhook has been seen, the receipt_id is not known and
// the answer is ErrUnknown wrapping ErrNoOrderLookup — never ErrNotFound,
// which would let the caller treat a possibly paid order as never sent.
func (c *Client) FindPayment(ctx context.Context, orderID string) (providers.Payment, error) {
	return c.findByOrder(ctx, "find_payment", orderID)
}

// findByOrder reads each remembered receipt of the order and returns the
// one Bootpay says belongs to it. A hint naming a receipt that does not
// exist, or that belongs to another order, is skipped, never reported as
// "not found".
func (c *Client) findByOrder(ctx context.Context, op, orderID string) (providers.Payment, error) {
	var lastErr error
	for _, rid := range c.receipts.get(orderID) {
		p, err := c.receipt(ctx, op, rid)
		switch {
		case err == nil && p.OrderID == orderID:
			return p, nil
		case err != nil && !errors.Is(err, providers.ErrNotFound):
			lastErr = err // transient: the answer stays unknown
		}
	}
	if lastErr != nil {
		return providers.Payment{}, lastErr
	}
	return providers.Payment{}, &providers.Error{Kind: providers.ErrUnknown, Provider: providers.Bootpay, Op: op, Err: ErrNoOrderLookup}
}

// RememberReceipt records that Bootpay gave orderID the receipt receiptID,
// typically from a webhook (see ParseWebhook). It is only a hint: FindPayment
// re-reads the receipt and checks its order_id.
func (c *Client) RememberReceipt(orderID, receiptID string) { c.receipts.put(orderID, receiptID) }

type v2Cancel struct {
	ReceiptID      string `json:"receipt_id"`
	CancelPrice    int64  `json:"cancel_price,omitempty"`
	CancelTaxFree  int64  `json:"cancel_tax_free,omitempty"`
	CancelID       string `json:"cancel_id,omitempty"`
	CancelUsername string `json:"cancel_username,omitempty"`
	CancelMessage  string `json:"cancel_message,omitempty"`
}

type v1Cancel struct {
	ReceiptID string `json:"receipt_id"`
	Price     int64  `json:"price,omitempty"`
	TaxFree   int64  `json:"tax_free,omitempty"`
	Name      string `json:"name,omitempty"`
	Reason    string `json:"reason,omitempty"`
	CancelID  string `json:"cancel_id,omitempty"`
}

// v1CancelData is v1's cancel reply; it has no order_id or status.
type v1CancelData struct {
	ReceiptID      string   `json:"receipt_id"`
	RemainPrice    amount   `json:"remain_price"`
	CancelledPrice amount   `json:"cancelled_price"`
	RevokedAt      wireTime `json:"revoked_at"`
}

// Cancel refunds all (Amount 0) or part of a payment: v2 POST /cancel
// (cancel_price, cancel_id …), v1 POST /cancel (price, cancel_id …). It is
// sent exactly once; Bootpay refuses a repeated cancel_id, so a retry by
// the caller with the same CancelID cannot refund twice. Bootpay has no
// balance checksum, so Refundable is not sent.
func (c *Client) Cancel(ctx context.Context, req providers.CancelRequest) (providers.Payment, error) {
	const op = "cancel"
	switch {
	case req.ProviderID == "" && req.OrderID == "":
		return providers.Payment{}, c.rejectLocal(op, "receipt id or order id is required")
	case req.Amount < 0 || req.TaxFree < 0 || (req.Amount > 0 && req.TaxFree > req.Amount):
		return providers.Payment{}, c.rejectLocal(op, "cancel amount must be positive and tax-free within it")
	}
	rid := req.ProviderID
	if rid == "" {
		// Bootpay cancels by receipt_id only. Resolve the order through
		// receipts verified to belong to it, so that a forged webhook hint
		// can never point a refund at another payment.
		p, err := c.findByOrder(ctx, op, req.OrderID)
		if err != nil {
			if pe, ok := providers.AsError(err); ok && errors.Is(pe.Err, ErrNoOrderLookup) {
				return providers.Payment{}, c.rejectLocal(op, "bootpay cancels by receipt_id, which is not known for this order")
			}
			return providers.Payment{}, c.notSent(call{op: op, write: true}, err)
		}
		rid = p.ProviderID
	}
	cl := call{op: op, method: http.MethodPost, path: "/cancel", route: "/cancel", write: true}
	if c.v1 {
		cl.body = v1Cancel{ReceiptID: rid, Price: req.Amount, TaxFree: req.TaxFree, Name: cancelUsername, Reason: req.Reason, CancelID: req.CancelID}
		var d v1CancelData
		if err := c.send(ctx, cl, &d); err != nil {
			return providers.Payment{}, err
		}
		p := providers.Payment{ProviderID: firstNonEmpty(d.ReceiptID, rid), OrderID: req.OrderID, Currency: "KRW",
			Amount: int64(d.RemainPrice + d.CancelledPrice), CancelledAmount: int64(d.CancelledPrice),
			Status: providers.StatusPaid, CancelledAt: d.RevokedAt.Time}
		if d.RemainPrice == 0 {
			p.Status = providers.StatusCancelled
		}
		return p, nil
	}
	cl.body = v2Cancel{ReceiptID: rid, CancelPrice: req.Amount, CancelTaxFree: req.TaxFree, CancelID: req.CancelID,
		CancelUsername: cancelUsername, CancelMessage: req.Reason}
	var raw json.RawMessage
	if err := c.send(ctx, cl, &raw); err != nil {
		return providers.Payment{}, err
	}
	p, err := c.parseReceipt(raw)
	if err != nil {
		// The cancel may have happened; the caller re-reads the receipt.
		return providers.Payment{}, c.unreadable(cl, reply{status: http.StatusOK}, err)
	}
	return p, nil
}
