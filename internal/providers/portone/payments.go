package portone

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/billingd/billingd/internal/providers"
)

type chargeAmount struct {
	Total   int64 `json:"total"`
	TaxFree int64 `json:"taxFree,omitempty"`
}

// chargeBody is the body of POST /payments/{paymentId}/billing-key, and the
// payment of a schedule.
type chargeBody struct {
	StoreID    string         `json:"storeId,omitempty"`
	BillingKey string         `json:"billingKey"`
	OrderName  string         `json:"orderName"`
	Customer   *issueCustomer `json:"customer,omitempty"`
	CustomData string         `json:"customData,omitempty"`
	Amount     chargeAmount   `json:"amount"`
	Currency   string         `json:"currency"`
	NoticeURLs []string       `json:"noticeUrls,omitempty"`
}

func (c *Client) chargeBody(key, orderName string, amount, taxFree int64, b providers.Buyer, noticeURL, customData string) chargeBody {
	body := chargeBody{StoreID: c.storeID, BillingKey: key, OrderName: orderName, CustomData: customData,
		Amount: chargeAmount{Total: amount, TaxFree: taxFree}, Currency: "KRW"}
	if body.OrderName == "" {
		body.OrderName = "billingd payment" // required by PortOne
	}
	if b != (providers.Buyer{}) {
		body.Customer = &issueCustomer{Email: b.Email, PhoneNumber: b.Phone}
		if b.Name != "" {
			body.Customer.Name = &issueName{Full: b.Name}
		}
	}
	if noticeURL != "" {
		body.NoticeURLs = []string{noticeURL}
	}
	return body
}

func paymentPath(id string) string { return "/payments/" + url.PathEscape(WirePaymentID(id)) }

type chargeReply struct {
	Payment *struct {
		PGTxID string `json:"pgTxId"`
		PaidAt string `json:"paidAt"`
	} `json:"payment"`
}

// Charge charges a billing key with POST /payments/{paymentId}/billing-key,
// the paymentId being billingd's payment id.
//
// A 200 is paid. A 409 ALREADY_PAID (a retry of an order whose first reply
// was lost) is settled by reading the payment: paid for this amount and key
// is returned as paid, anything else is ErrUnknown — never a second charge.
// PG_PROVIDER is the PG's decline (ErrDeclined with pgCode/pgMessage and,
// when the lookup finds it, the failed payment). Timeouts, resets, 5xx and
// unreadable replies are ErrUnknown. It is never retried.
func (c *Client) Charge(ctx context.Context, in providers.ChargeRequest) (providers.Payment, error) {
	const op = "charge"
	switch {
	case in.OrderID == "" || in.BillingKey == "":
		return providers.Payment{}, c.invalid(op, "order id and billing key are required")
	case in.Amount <= 0 || in.TaxFree < 0 || in.TaxFree > in.Amount:
		return providers.Payment{}, c.invalid(op, "amount must be positive and tax_free within it")
	}
	req := request{op: op, method: http.MethodPost, path: paymentPath(in.OrderID) + "/billing-key",
		body: c.chargeBody(in.BillingKey, in.OrderName, in.Amount, in.TaxFree, in.Buyer, in.NoticeURL, in.CustomData)}
	rep, err := c.call(ctx, req)
	if err != nil {
		return providers.Payment{}, err
	}
	if err := c.classify(req, rep); err != nil {
		switch rep.err.Type {
		case "ALREADY_PAID":
			return c.settleAlreadyPaid(ctx, req, in, err)
		case "PG_PROVIDER":
			return providers.Payment{}, c.decline(ctx, req, in, err)
		}
		return providers.Payment{}, err
	}
	var out chargeReply
	if err := c.decode(req, rep, &out); err != nil {
		return providers.Payment{}, err
	}
	var cv conv
	var paidAt time.Time
	if out.Payment != nil {
		paidAt = cv.time(out.Payment.PaidAt)
	}
	if out.Payment == nil || paidAt.IsZero() || cv.err != nil {
		return providers.Payment{}, c.fail(req, providers.ErrUnknown, fmt.Errorf("reply has no paid payment: %v", cv.err))
	}
	return providers.Payment{ProviderID: in.OrderID, OrderID: in.OrderID, Status: providers.StatusPaid, Amount: in.Amount,
		Currency: "KRW", BillingKey: in.BillingKey, PaidAt: paidAt}, nil
}

// settleAlreadyPaid answers a 409 ALREADY_PAID by the payment itself.
func (c *Client) settleAlreadyPaid(ctx context.Context, parent request, in providers.ChargeRequest, refusal error) (providers.Payment, error) {
	p, err := c.lookupPayment(ctx, request{op: parent.op, method: http.MethodGet, path: paymentPath(in.OrderID), query: c.storeQuery(), lookup: true})
	if err != nil {
		// %v, not %w: the lookup's own kind (not found, auth) must not
		// answer an errors.Is about this one.
		return providers.Payment{}, &providers.Error{Kind: providers.ErrUnknown, Provider: providers.Portone, Op: parent.op,
			PGCode: "ALREADY_PAID", Err: fmt.Errorf("already paid, and the payment could not be read: %v", err)}
	}
	if p.Status == providers.StatusPaid && p.OrderID == in.OrderID && p.Amount == in.Amount &&
		(p.BillingKey == "" || p.BillingKey == in.BillingKey) {
		return p, nil
	}
	return providers.Payment{}, &providers.Error{Kind: providers.ErrUnknown, Provider: providers.Portone, Op: parent.op,
		PGCode: "ALREADY_PAID", Payment: &p,
		Err: fmt.Errorf("%v; the payment is %s for %d KRW, not the charge sent", refusal, p.Status, p.Amount)}
}

// decline attaches the failed payment to a PG_PROVIDER refusal. Should the
// lookup find the order paid after all, the answers contradict each other
// and the outcome is unknown.
func (c *Client) decline(ctx context.Context, parent request, in providers.ChargeRequest, refusal error) error {
	pe, _ := providers.AsError(refusal)
	pe.Kind = providers.ErrDeclined
	p, err := c.lookupPayment(ctx, request{op: parent.op, method: http.MethodGet, path: paymentPath(in.OrderID), query: c.storeQuery(), lookup: true})
	switch {
	case err != nil:
		return pe
	case p.Status == providers.StatusFailed:
		pe.Payment = &p
		return pe
	case p.Status == providers.StatusPaid || p.Status == providers.StatusCancelled:
		pe.Kind, pe.Payment = providers.ErrUnknown, &p
	}
	return pe
}

// FindPayment reads a payment by billingd's payment id with GET
// /payments/{paymentId}. ErrNotFound when PortOne never saw it.
func (c *Client) FindPayment(ctx context.Context, orderID string) (providers.Payment, error) {
	const op = "find payment"
	if orderID == "" {
		return providers.Payment{}, c.invalid(op, "payment id is required")
	}
	return c.lookupPayment(ctx, request{op: op, method: http.MethodGet, path: paymentPath(orderID), query: c.storeQuery(), lookup: true})
}

// GetPayment is FindPayment: PortOne's id of a payment is the paymentId.
func (c *Client) GetPayment(ctx context.Context, providerID string) (providers.Payment, error) {
	const op = "get payment"
	if providerID == "" {
		return providers.Payment{}, c.invalid(op, "payment id is required")
	}
	return c.lookupPayment(ctx, request{op: op, method: http.MethodGet, path: paymentPath(providerID), query: c.storeQuery(), lookup: true})
}

func (c *Client) lookupPayment(ctx context.Context, req request) (providers.Payment, error) {
	p, _, err := c.readPayment(ctx, req)
	return p, err
}

func (c *Client) readPayment(ctx context.Context, req request) (providers.Payment, wirePayment, error) {
	rep, err := c.call(ctx, req)
	if err != nil {
		return providers.Payment{}, wirePayment{}, err
	}
	if err := c.classify(req, rep); err != nil {
		return providers.Payment{}, wirePayment{}, err
	}
	var w wirePayment
	if err := c.decode(req, rep, &w); err != nil {
		return providers.Payment{}, wirePayment{}, err
	}
	p, err := w.payment()
	if err != nil {
		return providers.Payment{}, w, c.fail(req, providers.ErrUnknown, fmt.Errorf("decode payment: %w", err))
	}
	return p, w, nil
}

type cancelBody struct {
	StoreID                  string `json:"storeId,omitempty"`
	Amount                   int64  `json:"amount"`
	TaxFreeAmount            int64  `json:"taxFreeAmount,omitempty"`
	Reason                   string `json:"reason"`
	CurrentCancellableAmount int64  `json:"currentCancellableAmount"`
}

type cancelReply struct {
	Cancellation *struct {
		Status string `json:"status"`
		ID     string `json:"id"`
	} `json:"cancellation"`
}

// Cancel refunds with POST /payments/{paymentId}/cancel. The checksum
// (currentCancellableAmount = billingd's Refundable) is always sent, so
// PortOne refuses a cancel made on a stale view (409
// CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN, ErrRejected) and a repeated cancel
// can never refund twice. Amount 0 refunds the whole balance. A cancel the
// PG has only REQUESTED is ErrUnknown; SUCCEEDED returns the payment as
// PortOne now reports it.
func (c *Client) Cancel(ctx context.Context, in providers.CancelRequest) (providers.Payment, error) {
	const op = "cancel"
	id := in.ProviderID
	if id == "" {
		id = in.OrderID
	}
	switch {
	case id == "":
		return providers.Payment{}, c.invalid(op, "payment id is required")
	case in.Refundable <= 0:
		return providers.Payment{}, c.invalid(op, "the refundable balance is required: PortOne cancels are always checksummed")
	}
	amount := in.Amount
	if amount == 0 {
		amount = in.Refundable
	}
	if amount < 0 || amount > in.Refundable || in.TaxFree < 0 || in.TaxFree > amount {
		return providers.Payment{}, c.invalid(op, "amounts must be within the refundable balance")
	}
	reason := in.Reason
	if reason == "" {
		reason = "refund"
	}
	req := request{op: op, method: http.MethodPost, path: paymentPath(id) + "/cancel",
		body: cancelBody{StoreID: c.storeID, Amount: amount, TaxFreeAmount: in.TaxFree, Reason: reason, CurrentCancellableAmount: in.Refundable}}
	rep, err := c.call(ctx, req)
	if err != nil {
		return providers.Payment{}, err
	}
	if err := c.classify(req, rep); err != nil {
		return providers.Payment{}, err
	}
	var out cancelReply
	if err := c.decode(req, rep, &out); err != nil {
		return providers.Payment{}, err
	}
	if out.Cancellation == nil {
		return providers.Payment{}, c.fail(req, providers.ErrUnknown, errors.New("reply has no cancellation"))
	}
	switch out.Cancellation.Status {
	case "SUCCEEDED":
	case "FAILED":
		return providers.Payment{}, &providers.Error{Kind: providers.ErrRejected, Provider: providers.Portone, Op: op,
			PGCode: "CANCELLATION_FAILED", Err: errors.New("the PG failed the cancellation")}
	default: // REQUESTED, or a status not known yet: the PG has not confirmed
		return providers.Payment{}, c.fail(req, providers.ErrUnknown, fmt.Errorf("cancellation status %q", out.Cancellation.Status))
	}
	p, err := c.lookupPayment(ctx, request{op: op, method: http.MethodGet, path: paymentPath(id), query: c.storeQuery(), lookup: true})
	if err != nil {
		// The cancel went through; only its read-back failed.
		return providers.Payment{}, c.fail(req, providers.ErrUnknown, fmt.Errorf("cancelled, then the payment could not be read: %v", err))
	}
	return p, nil
}
