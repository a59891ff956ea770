package bootpay

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/billingd/billingd/internal/providers"
)

// ReserveRequest schedules a charge with a billing key at Bootpay.
type ReserveRequest struct {
	BillingKey  string
	OrderID     string // billingd's payment id, fixed before the call
	Amount      int64
	TaxFree     int64
	OrderName   string
	At          time.Time // when Bootpay runs the charge
	FeedbackURL string    // Bootpay posts the outcome here (no localhost at the real Bootpay)
}

// ReserveStatus is the state of a reservation.
type ReserveStatus string

// Reservation states. Bootpay's v2 codes are not documented; v1's are
// 0 waiting, 1 done, 2 error during run, 3 cancelled (reference §8.1), and
// the sandbox uses the same for v2.
const (
	ReserveScheduled ReserveStatus = "scheduled"
	ReserveDone      ReserveStatus = "done"
	ReserveFailed    ReserveStatus = "failed"
	ReserveCancelled ReserveStatus = "cancelled"
	ReserveOther     ReserveStatus = "other"
)

func reserveStatus(code int64) ReserveStatus {
	switch code {
	case 0:
		return ReserveScheduled
	case 1:
		return ReserveDone
	case 2:
		return ReserveFailed
	case 3:
		return ReserveCancelled
	}
	return ReserveOther
}

// Reservation is Bootpay's view of a reservation (v2 reserve lookup).
type Reservation struct {
	ID        string
	OrderID   string
	Amount    int64
	Status    ReserveStatus
	ReceiptID string // set once Bootpay has run it
	ExecuteAt time.Time
}

type v2Reserve struct {
	v2SubscribePayment
	ReserveExecuteAt string `json:"reserve_execute_at"`
}

type v1Reserve struct {
	v1SubscribeBilling
	SchedulerType string `json:"scheduler_type"`
	ExecuteAt     int64  `json:"execute_at"`
}

type reserveReply struct {
	ReserveID string `json:"reserve_id"`
}

// Reserve schedules a charge: v2 POST /subscribe/payment/reserve
// (reserve_execute_at ISO-8601 +09:00), v1 POST /subscribe/billing/reserve
// (scheduler_type "oneshot", execute_at unix seconds). It returns Bootpay's
// reserve_id. Like a charge it is sent once: a lost reply is ErrUnknown,
// because sending it again could schedule the charge twice.
func (c *Client) Reserve(ctx context.Context, req ReserveRequest) (string, error) {
	const op = "reserve"
	switch {
	case req.OrderID == "" || req.BillingKey == "":
		return "", c.rejectLocal(op, "order id and billing key are required")
	case req.Amount <= 0 || req.TaxFree < 0 || req.TaxFree > req.Amount:
		return "", c.rejectLocal(op, "amount must be positive and tax-free within it")
	case req.At.IsZero():
		return "", c.rejectLocal(op, "execution time is required")
	}
	cl := call{op: op, method: http.MethodPost, write: true}
	if c.v1 {
		cl.path, cl.route = "/subscribe/billing/reserve", "/subscribe/billing/reserve"
		cl.body = v1Reserve{v1SubscribeBilling: v1SubscribeBilling{BillingKey: req.BillingKey, ItemName: req.OrderName,
			OrderID: req.OrderID, Price: req.Amount, TaxFree: req.TaxFree, FeedbackURL: req.FeedbackURL,
			FeedbackContentType: jsonIf(req.FeedbackURL, "json"), Extra: v1Extra{RawData: 1}},
			SchedulerType: "oneshot", ExecuteAt: req.At.Unix()}
	} else {
		cl.path, cl.route = "/subscribe/payment/reserve", "/subscribe/payment/reserve"
		cl.body = v2Reserve{v2SubscribePayment: v2SubscribePayment{BillingKey: req.BillingKey, OrderName: req.OrderName,
			OrderID: req.OrderID, Price: req.Amount, TaxFree: req.TaxFree, FeedbackURL: req.FeedbackURL,
			ContentType: jsonIf(req.FeedbackURL, "application/json")}, ReserveExecuteAt: formatV2Time(req.At)}
	}
	var r reserveReply
	if err := c.send(ctx, cl, &r); err != nil {
		return "", err
	}
	if r.ReserveID == "" {
		return "", c.unreadable(cl, reply{status: http.StatusOK}, errFieldMissing("reserve_id"))
	}
	return r.ReserveID, nil
}

// CancelReserve revokes a reservation: v2 DELETE
// /subscribe/payment/reserve/{id}, v1 DELETE /subscribe/billing/reserve/{id}.
// ErrNotFound when Bootpay has no such reservation; ErrRejected when it
// already ran or was cancelled; ErrUnknown when the reply was lost (the
// caller looks the reservation up before concluding anything).
func (c *Client) CancelReserve(ctx context.Context, reserveID string) error {
	const op = "cancel_reserve"
	if reserveID == "" {
		return c.rejectLocal(op, "reserve id is required")
	}
	cl := call{op: op, method: http.MethodDelete, write: true, notFound: true}
	if c.v1 {
		cl.path, cl.route = "/subscribe/billing/reserve/"+url.PathEscape(reserveID), "/subscribe/billing/reserve/{reserve_id}"
		return c.send(ctx, cl, nil)
	}
	cl.path, cl.route = "/subscribe/payment/reserve/"+url.PathEscape(reserveID), "/subscribe/payment/reserve/{reserve_id}"
	var r struct {
		Success *bool `json:"success"`
	}
	if err := c.send(ctx, cl, &r); err != nil {
		return err
	}
	if r.Success != nil && !*r.Success {
		return c.fail(cl, providers.ErrRejected, "", "reservation not cancelled", nil)
	}
	return nil
}

// LookupReserve reads a reservation (v2 GET /subscribe/payment/reserve/{id});
// after Bootpay has run it, ReceiptID leads to the payment. v1 has no such
// lookup: ErrRejected.
func (c *Client) LookupReserve(ctx context.Context, reserveID string) (Reservation, error) {
	const op = "lookup_reserve"
	if c.v1 {
		return Reservation{}, c.unsupported(op, "no reservation lookup")
	}
	if reserveID == "" {
		return Reservation{}, c.rejectLocal(op, "reserve id is required")
	}
	cl := call{op: op, method: http.MethodGet, notFound: true,
		path: "/subscribe/payment/reserve/" + url.PathEscape(reserveID), route: "/subscribe/payment/reserve/{reserve_id}"}
	var r struct {
		ReserveID        string   `json:"reserve_id"`
		ReceiptID        string   `json:"receipt_id"`
		OrderID          string   `json:"order_id"`
		Price            amount   `json:"price"`
		Status           flexInt  `json:"status"`
		ReserveExecuteAt wireTime `json:"reserve_execute_at"`
	}
	if err := c.send(ctx, cl, &r); err != nil {
		return Reservation{}, err
	}
	c.receipts.put(r.OrderID, r.ReceiptID)
	return Reservation{ID: firstNonEmpty(r.ReserveID, reserveID), OrderID: r.OrderID, Amount: int64(r.Price),
		Status: reserveStatus(int64(r.Status)), ReceiptID: r.ReceiptID, ExecuteAt: r.ReserveExecuteAt.Time}, nil
}
