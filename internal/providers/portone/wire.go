package portone

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/billingd/billingd/internal/providers"
)

// Wire structs: only the fields billingd reads. Amounts are int64 on the
// wire; they are taken as json.Number and converted by whole, which refuses
// a fractional part instead of truncating it. Unknown fields and enum
// values are tolerated, as PortOne's compatibility policy requires.

type wireAmount struct {
	Total     json.Number `json:"total"`
	TaxFree   json.Number `json:"taxFree"`
	Paid      json.Number `json:"paid"`
	Cancelled json.Number `json:"cancelled"`
}

type wireCard struct {
	Name   string `json:"name"`
	Number string `json:"number"`
	Type   string `json:"type"` // CREDIT, DEBIT, GIFT
}

type wireMethod struct {
	Type string    `json:"type"`
	Card *wireCard `json:"card"`
}

type wireChannel struct {
	PGProvider   string `json:"pgProvider"`
	PGMerchantID string `json:"pgMerchantId"`
}

type wireCustomer struct {
	ID string `json:"id"`
}

type wireFailure struct {
	Reason    string `json:"reason"`
	PGCode    string `json:"pgCode"`
	PGMessage string `json:"pgMessage"`
}

type wirePayment struct {
	Status        string       `json:"status"`
	ID            string       `json:"id"`
	TransactionID string       `json:"transactionId"`
	StoreID       string       `json:"storeId"`
	BillingKey    string       `json:"billingKey"`
	ScheduleID    string       `json:"scheduleId"`
	Method        *wireMethod  `json:"method"`
	Channel       *wireChannel `json:"channel"`
	Amount        wireAmount   `json:"amount"`
	Currency      string       `json:"currency"`
	ReceiptURL    string       `json:"receiptUrl"`
	PaidAt        string       `json:"paidAt"`
	FailedAt      string       `json:"failedAt"`
	CancelledAt   string       `json:"cancelledAt"`
	Failure       *wireFailure `json:"failure"`
}

type wireBillingKey struct {
	Status     string        `json:"status"`
	BillingKey string        `json:"billingKey"`
	StoreID    string        `json:"storeId"`
	IssueID    string        `json:"issueId"`
	Customer   wireCustomer  `json:"customer"`
	Methods    []wireMethod  `json:"methods"`
	Channels   []wireChannel `json:"channels"`
	IssuedAt   string        `json:"issuedAt"`
}

type wireSchedule struct {
	Status     string `json:"status"`
	ID         string `json:"id"`
	PaymentID  string `json:"paymentId"`
	BillingKey string `json:"billingKey"`
	TimeToPay  string `json:"timeToPay"`
}

// whole converts a JSON number to int64; "9000.5" is an error, never 9000.
func whole(n json.Number) (int64, error) {
	s := string(n)
	if s == "" {
		return 0, nil
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("%q is not a whole number", s)
	}
	return int64(f), nil
}

// conv collects the first conversion error of several fields.
type conv struct{ err error }

func (c *conv) int(n json.Number) int64 {
	v, err := whole(n)
	if c.err == nil && err != nil {
		c.err = err
	}
	return v
}

func (c *conv) time(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if c.err == nil && err != nil {
		c.err = fmt.Errorf("time %q: %w", s, err)
	}
	return t.UTC()
}

// paymentStatus maps every status of the V2 payment object. Only PAID,
// PARTIAL_CANCELLED and CANCELLED mean money moved, only FAILED means it
// did not; READY, PAY_PENDING and VIRTUAL_ACCOUNT_ISSUED are not settled
// yet, and a status this adapter does not know is StatusUnknown — the
// caller keeps reconciling rather than guess.
func paymentStatus(s string) providers.PaymentStatus {
	switch s {
	case "PAID", "PARTIAL_CANCELLED":
		return providers.StatusPaid
	case "CANCELLED":
		return providers.StatusCancelled
	case "FAILED":
		return providers.StatusFailed
	case "READY", "PAY_PENDING", "VIRTUAL_ACCOUNT_ISSUED":
		return providers.StatusPending
	}
	return providers.StatusUnknown
}

func (w wirePayment) payment() (providers.Payment, error) {
	var c conv
	p := providers.Payment{
		// PortOne names a payment by the paymentId the merchant chose:
		// billingd's payment id is both the order id and the PG's id.
		ProviderID:      OrderID(w.ID),
		OrderID:         OrderID(w.ID),
		Status:          paymentStatus(w.Status),
		Amount:          c.int(w.Amount.Total),
		CancelledAmount: c.int(w.Amount.Cancelled),
		Currency:        w.Currency,
		BillingKey:      w.BillingKey,
		ReceiptURL:      w.ReceiptURL,
		PaidAt:          c.time(w.PaidAt),
		FailedAt:        c.time(w.FailedAt),
		CancelledAt:     c.time(w.CancelledAt),
	}
	if w.Channel != nil {
		p.PG = w.Channel.PGProvider
	}
	if w.Method != nil {
		p.PayMethod = w.Method.Type
		if w.Method.Card != nil {
			p.CardName, p.CardNumber = w.Method.Card.Name, w.Method.Card.Number
		}
	}
	if w.Failure != nil {
		p.FailCode, p.FailReason = w.Failure.PGCode, w.Failure.Reason
		if p.FailReason == "" {
			p.FailReason = w.Failure.PGMessage
		}
	}
	if c.err == nil && w.ID == "" {
		c.err = errors.New("payment without id")
	}
	return p, c.err
}

func (w wireBillingKey) billingKey() (providers.BillingKey, error) {
	var c conv
	k := providers.BillingKey{Key: w.BillingKey, IssueID: w.IssueID, CustomerID: w.Customer.ID, StoreID: w.StoreID,
		IssuedAt: c.time(w.IssuedAt)}
	if len(w.Channels) > 0 {
		k.PG, k.PGID = w.Channels[0].PGProvider, w.Channels[0].PGMerchantID
	}
	for _, m := range w.Methods {
		if m.Card != nil {
			k.CardName, k.CardNumber = m.Card.Name, m.Card.Number
			switch strings.ToUpper(m.Card.Type) {
			case "CREDIT":
				k.CardType = "credit"
			case "DEBIT":
				k.CardType = "check"
			}
			break
		}
	}
	if c.err == nil && w.BillingKey == "" {
		c.err = errors.New("billing key without billingKey")
	}
	return k, c.err
}
