package iamport

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/billingd/billingd/internal/providers"
)

// ScheduleRequest asks Iamport to charge an existing billing key later.
type ScheduleRequest struct {
	CustomerUID string
	// NoticeURL receives the paid/failed webhook of every item.
	NoticeURL string
	Items     []ScheduleItem
}

// ScheduleItem is one future charge.
type ScheduleItem struct {
	OrderID    string    // merchant_uid: billingd's payment id
	At         time.Time // sent as unix seconds
	Amount     int64
	TaxFree    int64
	Name       string
	Buyer      providers.Buyer
	CustomData string
}

// ScheduleStatus is Iamport's schedule_status.
type ScheduleStatus string

const (
	ScheduleScheduled ScheduleStatus = "scheduled"
	ScheduleExecuted  ScheduleStatus = "executed"
	ScheduleRevoked   ScheduleStatus = "revoked"
)

// ScheduledPayment is Iamport's record of one scheduled charge.
type ScheduledPayment struct {
	CustomerUID string
	OrderID     string
	ProviderID  string // imp_uid of the resulting payment; empty until executed
	At          time.Time
	ExecutedAt  time.Time // zero until executed
	RevokedAt   time.Time // zero unless revoked
	Amount      int64
	Currency    string
	Name        string
	CustomData  string
	Status      ScheduleStatus
	// PaymentStatus is the resulting payment's status; empty until executed.
	PaymentStatus providers.PaymentStatus
	FailReason    string
}

type scheduleRequest struct {
	CustomerUID string         `json:"customer_uid"`
	Schedules   []scheduleWire `json:"schedules"`
}

type scheduleWire struct {
	MerchantUID string `json:"merchant_uid"`
	ScheduleAt  int64  `json:"schedule_at"`
	Currency    string `json:"currency"`
	Amount      int64  `json:"amount"`
	TaxFree     int64  `json:"tax_free,omitempty"`
	Name        string `json:"name,omitempty"`
	BuyerName   string `json:"buyer_name,omitempty"`
	BuyerEmail  string `json:"buyer_email,omitempty"`
	BuyerTel    string `json:"buyer_tel,omitempty"`
	CustomData  string `json:"custom_data,omitempty"`
	NoticeURL   string `json:"notice_url,omitempty"`
}

type unscheduleRequest struct {
	CustomerUID string   `json:"customer_uid"`
	MerchantUID []string `json:"merchant_uid,omitempty"`
}

// Schedule registers future charges of an existing key with POST
// /subscribe/payments/schedule. Like a charge it is never retried blindly:
// transport trouble is ErrUnknown (GetSchedule tells what Iamport holds), a
// refusal (unknown key, a merchant_uid already used) is ErrRejected.
func (c *Client) Schedule(ctx context.Context, in ScheduleRequest) ([]ScheduledPayment, error) {
	const op = "schedule"
	if in.CustomerUID == "" || len(in.Items) == 0 {
		return nil, c.invalid(op, "customer_uid and at least one item are required")
	}
	body := scheduleRequest{CustomerUID: in.CustomerUID, Schedules: make([]scheduleWire, len(in.Items))}
	for i, it := range in.Items {
		if it.OrderID == "" || it.At.IsZero() || it.Amount <= 0 || it.TaxFree < 0 || it.TaxFree > it.Amount {
			return nil, c.invalid(op, fmt.Sprintf("item %d needs an order id, a time and a positive amount", i))
		}
		body.Schedules[i] = scheduleWire{
			MerchantUID: it.OrderID, ScheduleAt: it.At.Unix(), Currency: "KRW", Amount: it.Amount, TaxFree: it.TaxFree,
			Name: it.Name, BuyerName: it.Buyer.Name, BuyerEmail: it.Buyer.Email, BuyerTel: it.Buyer.Phone,
			CustomData: it.CustomData, NoticeURL: in.NoticeURL,
		}
	}
	// Repeatable after a 401: Iamport refuses a merchant_uid that is already
	// scheduled, so a second attempt cannot create a second charge.
	return c.schedules(ctx, request{op: op, method: http.MethodPost, path: "/subscribe/payments/schedule", body: body, repeatable: true})
}

// Unschedule revokes scheduled charges with POST
// /subscribe/payments/unschedule: the listed orders of customerUID, or all
// of its pending schedules when orderIDs is empty. Nothing left to revoke
// (already executed or revoked) is ErrRejected with Iamport's code 1.
func (c *Client) Unschedule(ctx context.Context, customerUID string, orderIDs []string) ([]ScheduledPayment, error) {
	const op = "unschedule"
	if customerUID == "" {
		return nil, c.invalid(op, "customer_uid is required")
	}
	// Revoking is idempotent: a repeat finds nothing more to revoke.
	return c.schedules(ctx, request{op: op, method: http.MethodPost, path: "/subscribe/payments/unschedule", repeatable: true,
		body: unscheduleRequest{CustomerUID: customerUID, MerchantUID: orderIDs}})
}

// GetSchedule reads one scheduled charge (GET
// /subscribe/payments/schedule/{merchant_uid}). ErrNotFound when unknown.
func (c *Client) GetSchedule(ctx context.Context, orderID string) (ScheduledPayment, error) {
	const op = "get schedule"
	if orderID == "" {
		return ScheduledPayment{}, c.invalid(op, "order id is required")
	}
	req := request{op: op, method: http.MethodGet, path: "/subscribe/payments/schedule/" + url.PathEscape(orderID), repeatable: true}
	rep, err := c.call(ctx, req)
	if err != nil {
		return ScheduledPayment{}, err
	}
	if err := c.classify(req, rep); err != nil {
		return ScheduledPayment{}, err
	}
	var w wireSchedule
	if err := c.decode(req, rep, &w); err != nil {
		return ScheduledPayment{}, err
	}
	s, err := w.scheduled()
	if err != nil {
		return ScheduledPayment{}, c.fail(req, providers.ErrUnknown, fmt.Errorf("decode schedule: %w", err))
	}
	return s, nil
}

func (c *Client) schedules(ctx context.Context, req request) ([]ScheduledPayment, error) {
	rep, err := c.call(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := c.classify(req, rep); err != nil {
		return nil, err
	}
	var ws []wireSchedule
	if err := c.decode(req, rep, &ws); err != nil {
		return nil, err
	}
	out := make([]ScheduledPayment, len(ws))
	for i, w := range ws {
		if out[i], err = w.scheduled(); err != nil {
			return nil, c.fail(req, providers.ErrUnknown, fmt.Errorf("decode schedule: %w", err))
		}
	}
	return out, nil
}
