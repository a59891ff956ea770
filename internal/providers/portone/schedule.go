package portone

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/billingd/billingd/internal/providers"
)

type scheduleBody struct {
	Payment   chargeBody `json:"payment"`
	TimeToPay string     `json:"timeToPay"`
}

type scheduleReply struct {
	Schedule *struct {
		ID string `json:"id"`
	} `json:"schedule"`
}

// Schedule registers a charge with POST /payments/{paymentId}/schedule and
// returns PortOne's schedule id. Transport trouble is ErrUnknown (the
// caller keeps the payment scheduled and looks it up later). A 409
// ALREADY_PAID_OR_WAITING means the paymentId is taken: if the schedule
// that holds it is ours (same billing key and time — a first reply that
// was lost), its id is returned; otherwise the refusal stands.
func (c *Client) Schedule(ctx context.Context, in providers.ScheduleRequest) (string, error) {
	const op = "schedule"
	switch {
	case in.OrderID == "" || in.BillingKey == "" || in.At.IsZero():
		return "", c.invalid(op, "order id, billing key and time are required")
	case in.Amount <= 0 || in.TaxFree < 0 || in.TaxFree > in.Amount:
		return "", c.invalid(op, "amount must be positive and tax_free within it")
	}
	req := request{op: op, method: http.MethodPost, path: paymentPath(in.OrderID) + "/schedule", body: scheduleBody{
		Payment:   c.chargeBody(in.BillingKey, in.OrderName, in.Amount, in.TaxFree, in.Buyer, in.NoticeURL, ""),
		TimeToPay: in.At.UTC().Format(time.RFC3339)}}
	rep, err := c.call(ctx, req)
	if err != nil {
		return "", err
	}
	if err := c.classify(req, rep); err != nil {
		if rep.err.Type == "ALREADY_PAID_OR_WAITING" {
			at := in.At.UTC().Truncate(time.Second)
			s, found, ferr := c.findSchedule(ctx, op, in.BillingKey, in.OrderID, at.Add(-time.Second), at.Add(time.Second))
			if ferr == nil && found && s.Status != "REVOKED" {
				return s.ID, nil
			}
		}
		return "", err
	}
	var out scheduleReply
	if err := c.decode(req, rep, &out); err != nil {
		return "", err
	}
	if out.Schedule == nil || out.Schedule.ID == "" {
		return "", c.fail(req, providers.ErrUnknown, errors.New("reply has no schedule id"))
	}
	return out.Schedule.ID, nil
}

type revokeBody struct {
	StoreID     string   `json:"storeId,omitempty"`
	BillingKey  string   `json:"billingKey,omitempty"`
	ScheduleIDs []string `json:"scheduleIds"`
}

// Unschedule revokes one schedule with DELETE /payment-schedules. The
// schedule id is always named: billingKey alone would revoke every
// schedule of the key. Without an id (its reply was lost) the key's
// schedules are searched for the order. A schedule that already ran or
// was revoked is ErrRejected; one PortOne does not know is ErrNotFound.
func (c *Client) Unschedule(ctx context.Context, billingKey, orderID, scheduleID string) error {
	const op = "unschedule"
	if scheduleID == "" {
		if billingKey == "" || orderID == "" {
			return c.invalid(op, "a schedule id, or the billing key and order id, are required")
		}
		now := c.now().UTC()
		s, found, err := c.findSchedule(ctx, op, billingKey, orderID, now.AddDate(-1, 0, 0), now.AddDate(2, 0, 0))
		switch {
		case err != nil:
			return err
		case !found:
			return &providers.Error{Kind: providers.ErrNotFound, Provider: providers.Portone, Op: op,
				PGCode: "PAYMENT_SCHEDULE_NOT_FOUND", Err: errors.New("no schedule of this billing key holds the order")}
		}
		scheduleID = s.ID
	}
	body, _ := json.Marshal(revokeBody{StoreID: c.storeID, BillingKey: billingKey, ScheduleIDs: []string{scheduleID}})
	// The JS SDK sends this input as ?requestBody=; a DELETE body is not
	// kept by every proxy.
	req := request{op: op, method: http.MethodDelete, path: "/payment-schedules", query: url.Values{"requestBody": {string(body)}}, lookup: true}
	rep, err := c.call(ctx, req)
	if err != nil {
		return err
	}
	return c.classify(req, rep)
}

// LookupSchedule reads a schedule with GET /payment-schedules/{id}. Without
// an id the payment is read first (a run payment names its schedule);
// failing that, the store's schedules are searched for the order. A
// schedule that names another payment is ErrUnknown: it is not the one
// billingd asked about.
func (c *Client) LookupSchedule(ctx context.Context, orderID, scheduleID string) (providers.Schedule, error) {
	const op = "lookup schedule"
	if orderID == "" {
		return providers.Schedule{}, c.invalid(op, "order id is required")
	}
	if scheduleID == "" {
		p, w, err := c.readPayment(ctx, request{op: op, method: http.MethodGet, path: paymentPath(orderID), query: c.storeQuery(), lookup: true})
		switch {
		case err == nil && w.ScheduleID != "":
			scheduleID = w.ScheduleID
		case err == nil && (p.Status == providers.StatusPaid || p.Status == providers.StatusFailed || p.Status == providers.StatusCancelled):
			return providers.Schedule{State: providers.ScheduleExecuted, ProviderPaymentID: p.ProviderID}, nil
		case err != nil && !errors.Is(err, providers.ErrNotFound):
			return providers.Schedule{}, err
		}
	}
	var w wireSchedule
	if scheduleID != "" {
		req := request{op: op, method: http.MethodGet, path: "/payment-schedules/" + url.PathEscape(scheduleID), query: c.storeQuery(), lookup: true}
		rep, err := c.call(ctx, req)
		if err != nil {
			return providers.Schedule{}, err
		}
		if err := c.classify(req, rep); err != nil {
			return providers.Schedule{}, err
		}
		if err := c.decode(req, rep, &w); err != nil {
			return providers.Schedule{}, err
		}
	} else {
		now := c.now().UTC()
		s, found, err := c.findSchedule(ctx, op, "", orderID, now.AddDate(-1, 0, 0), now.AddDate(2, 0, 0))
		switch {
		case err != nil:
			return providers.Schedule{}, err
		case !found:
			return providers.Schedule{}, &providers.Error{Kind: providers.ErrNotFound, Provider: providers.Portone, Op: op,
				PGCode: "PAYMENT_SCHEDULE_NOT_FOUND", Err: errors.New("no schedule holds the order")}
		}
		w = s
	}
	if OrderID(w.PaymentID) != orderID {
		return providers.Schedule{}, &providers.Error{Kind: providers.ErrUnknown, Provider: providers.Portone, Op: op,
			Err: fmt.Errorf("schedule %s is for payment %q, not %q", w.ID, w.PaymentID, orderID)}
	}
	return scheduleState(w), nil
}

// scheduleState maps PortOne's schedule status. STARTED is running and
// PENDING waiting; a status not known here is treated as not run yet, so
// the caller asks again rather than conclude anything.
func scheduleState(w wireSchedule) providers.Schedule {
	switch w.Status {
	case "SUCCEEDED", "FAILED":
		return providers.Schedule{State: providers.ScheduleExecuted, ProviderPaymentID: OrderID(w.PaymentID)}
	case "REVOKED":
		return providers.Schedule{State: providers.ScheduleRevoked}
	}
	return providers.Schedule{State: providers.SchedulePending}
}

type listBody struct {
	Page   listPage   `json:"page"`
	Filter listFilter `json:"filter"`
}

type listPage struct {
	Number int `json:"number"`
	Size   int `json:"size"`
}

type listFilter struct {
	StoreID    string `json:"storeId,omitempty"`
	BillingKey string `json:"billingKey,omitempty"`
	From       string `json:"from"`
	Until      string `json:"until"`
}

type listReply struct {
	Items []wireSchedule `json:"items"`
	Page  struct {
		TotalCount json.Number `json:"totalCount"`
	} `json:"page"`
}

// Searching schedules is bounded: a store with more schedules in the
// window than this is answered "unknown" rather than read to the end.
const (
	listPageSize = 100
	listMaxPages = 20
)

// findSchedule searches GET /payment-schedules for the schedule holding
// orderID, with timeToPay in [from, until] (the filter's default window
// ends now, which would hide future schedules, so both ends are set).
func (c *Client) findSchedule(ctx context.Context, op, billingKey, orderID string, from, until time.Time) (wireSchedule, bool, error) {
	for page := 0; page < listMaxPages; page++ {
		in, _ := json.Marshal(listBody{Page: listPage{Number: page, Size: listPageSize}, Filter: listFilter{StoreID: c.storeID,
			BillingKey: billingKey, From: from.UTC().Format(time.RFC3339), Until: until.UTC().Format(time.RFC3339)}})
		req := request{op: op, method: http.MethodGet, path: "/payment-schedules", query: url.Values{"requestBody": {string(in)}}}
		rep, err := c.call(ctx, req)
		if err != nil {
			return wireSchedule{}, false, err
		}
		if err := c.classify(req, rep); err != nil {
			return wireSchedule{}, false, err
		}
		var out listReply
		if err := c.decode(req, rep, &out); err != nil {
			return wireSchedule{}, false, err
		}
		for _, s := range out.Items {
			if OrderID(s.PaymentID) == orderID {
				return s, true, nil
			}
		}
		total, err := whole(out.Page.TotalCount)
		if err != nil {
			return wireSchedule{}, false, c.fail(req, providers.ErrUnknown, err)
		}
		if len(out.Items) < listPageSize || int64((page+1)*listPageSize) >= total {
			return wireSchedule{}, false, nil
		}
	}
	return wireSchedule{}, false, &providers.Error{Kind: providers.ErrUnknown, Provider: providers.Portone, Op: op,
		Err: fmt.Errorf("more than %d schedules to search", listPageSize*listMaxPages)}
}
