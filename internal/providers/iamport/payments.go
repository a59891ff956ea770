package iamport

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/billingd/billingd/internal/providers"
)

// againRequest is the body of POST /subscribe/payments/again.
type againRequest struct {
	CustomerUID string `json:"customer_uid"`
	MerchantUID string `json:"merchant_uid"`
	Amount      int64  `json:"amount"`
	TaxFree     int64  `json:"tax_free,omitempty"`
	Name        string `json:"name,omitempty"`
	BuyerName   string `json:"buyer_name,omitempty"`
	BuyerEmail  string `json:"buyer_email,omitempty"`
	BuyerTel    string `json:"buyer_tel,omitempty"`
	NoticeURL   string `json:"notice_url,omitempty"`
	CustomData  string `json:"custom_data,omitempty"`
}

// cancelRequest is the body of POST /payments/cancel.
type cancelRequest struct {
	ImpUID      string `json:"imp_uid,omitempty"`
	MerchantUID string `json:"merchant_uid,omitempty"`
	Amount      int64  `json:"amount,omitempty"`
	TaxFree     int64  `json:"tax_free,omitempty"`
	Checksum    *int64 `json:"checksum,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

// Charge charges a billing key with POST /subscribe/payments/again.
//
// code 0 only means the PG was reached: the charge is paid only when the
// returned payment says status "paid" (for this order and amount). A
// "failed" payment is ErrDeclined carrying it; a non-zero code is
// ErrRejected; anything unreadable is ErrUnknown. It is never retried,
// except once after a 401 (see request.repeatable).
func (c *Client) Charge(ctx context.Context, in providers.ChargeRequest) (providers.Payment, error) {
	const op = "charge"
	switch {
	case in.OrderID == "" || in.BillingKey == "":
		return providers.Payment{}, c.invalid(op, "order id and billing key are required")
	case in.Amount <= 0 || in.TaxFree < 0 || in.TaxFree > in.Amount:
		return providers.Payment{}, c.invalid(op, "amount must be positive and tax_free within it")
	}
	req := request{op: op, method: http.MethodPost, path: "/subscribe/payments/again", repeatable: true,
		body: againRequest{
			CustomerUID: in.BillingKey, MerchantUID: in.OrderID, Amount: in.Amount, TaxFree: in.TaxFree,
			Name: in.OrderName, BuyerName: in.Buyer.Name, BuyerEmail: in.Buyer.Email, BuyerTel: in.Buyer.Phone,
			NoticeURL: in.NoticeURL, CustomData: in.CustomData,
		}}
	rep, err := c.call(ctx, req)
	if err != nil {
		return providers.Payment{}, err
	}
	if err := c.classify(req, rep); err != nil {
		pe, _ := providers.AsError(err)
		if pe.Kind == providers.ErrRejected {
			// One refusal reason is "this merchant_uid is already paid". Its
			// text is not documented, so look: if a paid payment exists for
			// this order, attach it, so the caller cannot mistake an order
			// that was paid earlier (a lost reply, a second replica) for a
			// failed one. When that lookup fails too, nobody knows
			// whether money moved: unknown, reconciled later.
			p, lookupErr := c.paidPayment(ctx, req, in.OrderID)
			switch {
			case lookupErr == nil:
				pe.Payment = &p
			case !errors.Is(lookupErr, providers.ErrNotFound):
				return providers.Payment{}, &providers.Error{Kind: providers.ErrUnknown, Provider: providers.Iamport, Op: op,
					PGCode: pe.PGCode, PGMessage: pe.PGMessage,
					Err: fmt.Errorf("refused, and the lookup of a paid payment for the order failed: %w", lookupErr)}
			}
		}
		return providers.Payment{}, pe
	}
	p, err := c.payment(req, rep)
	if err != nil {
		return providers.Payment{}, err
	}
	switch {
	case p.OrderID != in.OrderID || (p.Status == providers.StatusPaid && p.Amount != in.Amount):
		return providers.Payment{}, &providers.Error{Kind: providers.ErrUnknown, Provider: providers.Iamport, Op: op, Payment: &p,
			Err: fmt.Errorf("reply is for order %q amount %d, not the one charged", p.OrderID, p.Amount)}
	case p.Status == providers.StatusPaid:
		return p, nil
	case p.Status == providers.StatusFailed:
		return providers.Payment{}, &providers.Error{Kind: providers.ErrDeclined, Provider: providers.Iamport, Op: op,
			PGMessage: c.scrub(req, p.FailReason), Payment: &p}
	default:
		return providers.Payment{}, &providers.Error{Kind: providers.ErrUnknown, Provider: providers.Iamport, Op: op, Payment: &p,
			Err: fmt.Errorf("payment status %q after a charge", p.Status)}
	}
}

// paidPayment looks for a paid payment of orderID. ErrNotFound is a
// definite "none"; any other error means Iamport could not tell.
func (c *Client) paidPayment(ctx context.Context, parent request, orderID string) (providers.Payment, error) {
	req := request{op: parent.op, method: http.MethodGet, path: "/payments/find/" + url.PathEscape(orderID) + "/paid", repeatable: true}
	rep, err := c.call(ctx, req)
	if err != nil {
		return providers.Payment{}, err
	}
	if err := c.classify(req, rep); err != nil {
		return providers.Payment{}, err
	}
	p, err := c.payment(req, rep)
	if err != nil {
		return providers.Payment{}, err
	}
	if p.Status != providers.StatusPaid {
		// /paid answered with something else: there is no paid one.
		return providers.Payment{}, &providers.Error{Kind: providers.ErrNotFound, Provider: providers.Iamport, Op: parent.op}
	}
	return p, nil
}

// FindPayment looks a payment up by merchant_uid (GET
// /payments/find/{merchant_uid}); Iamport returns the newest attempt.
// ErrNotFound when Iamport never saw the order.
func (c *Client) FindPayment(ctx context.Context, orderID string) (providers.Payment, error) {
	const op = "find payment"
	if orderID == "" {
		return providers.Payment{}, c.invalid(op, "order id is required")
	}
	return c.lookupPayment(ctx, request{op: op, method: http.MethodGet, path: "/payments/find/" + url.PathEscape(orderID), repeatable: true})
}

// GetPayment looks a payment up by imp_uid (GET /payments/{imp_uid}).
// Only a test-mode client sends include_sandbox=true: without it Iamport
// hides payments made on test channels, which a live account must never
// take for real ones. (The caller checks TestChannel on every answer too.)
func (c *Client) GetPayment(ctx context.Context, providerID string) (providers.Payment, error) {
	const op = "get payment"
	if providerID == "" {
		return providers.Payment{}, c.invalid(op, "imp_uid is required")
	}
	req := request{op: op, method: http.MethodGet, path: "/payments/" + url.PathEscape(providerID), repeatable: true}
	if c.test {
		req.query = url.Values{"include_sandbox": {"true"}}
	}
	return c.lookupPayment(ctx, req)
}

func (c *Client) lookupPayment(ctx context.Context, req request) (providers.Payment, error) {
	rep, err := c.call(ctx, req)
	if err != nil {
		return providers.Payment{}, err
	}
	if err := c.classify(req, rep); err != nil {
		return providers.Payment{}, err
	}
	return c.payment(req, rep)
}

// Cancel refunds all (Amount 0) or part of a payment with POST
// /payments/cancel. Refundable, when positive, is sent as the checksum:
// Iamport refuses the cancel if its own refundable balance differs, which
// also makes a repeated cancel harmless. CancelID has no Iamport
// counterpart and is not sent.
func (c *Client) Cancel(ctx context.Context, in providers.CancelRequest) (providers.Payment, error) {
	const op = "cancel"
	switch {
	case in.ProviderID == "" && in.OrderID == "":
		return providers.Payment{}, c.invalid(op, "imp_uid or order id is required")
	case in.Amount < 0 || in.TaxFree < 0 || in.Refundable < 0:
		return providers.Payment{}, c.invalid(op, "amounts must not be negative")
	case in.Refundable > 0 && in.Amount > in.Refundable:
		return providers.Payment{}, c.invalid(op, "amount exceeds the refundable balance")
	}
	body := cancelRequest{ImpUID: in.ProviderID, Amount: in.Amount, TaxFree: in.TaxFree, Reason: in.Reason}
	if in.ProviderID == "" {
		body.MerchantUID = in.OrderID
	}
	if in.Refundable > 0 {
		checksum := in.Refundable
		body.Checksum = &checksum
	}
	req := request{op: op, method: http.MethodPost, path: "/payments/cancel", body: body, repeatable: body.Checksum != nil}
	rep, err := c.call(ctx, req)
	if err != nil {
		return providers.Payment{}, err
	}
	if err := c.classify(req, rep); err != nil {
		return providers.Payment{}, err
	}
	p, err := c.payment(req, rep)
	if err != nil {
		return providers.Payment{}, err
	}
	if p.Status != providers.StatusPaid && p.Status != providers.StatusCancelled {
		return providers.Payment{}, &providers.Error{Kind: providers.ErrUnknown, Provider: providers.Iamport, Op: op, Payment: &p,
			Err: fmt.Errorf("payment status %q after a cancel", p.Status)}
	}
	return p, nil
}

// payment decodes a reply's response as a payment.
func (c *Client) payment(req request, rep reply) (providers.Payment, error) {
	var w wirePayment
	if err := c.decode(req, rep, &w); err != nil {
		return providers.Payment{}, err
	}
	p, err := w.payment()
	if err != nil {
		return providers.Payment{}, c.fail(req, providers.ErrUnknown, fmt.Errorf("decode payment: %w", err))
	}
	return p, nil
}
