package iamport

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/billingd/billingd/internal/providers"
)

// Wire structs: only the fields billingd reads. Numbers arrive as JSON
// numbers (SPEC types amounts as "number"), so they are taken as json.Number
// and converted by whole, which refuses a fractional part instead of
// truncating it. Absent strings arrive as null and decode to "".

type wireToken struct {
	AccessToken string      `json:"access_token"`
	Now         json.Number `json:"now"`
	ExpiredAt   json.Number `json:"expired_at"`
}

type wirePayment struct {
	ImpUID       string      `json:"imp_uid"`
	MerchantUID  string      `json:"merchant_uid"`
	PayMethod    string      `json:"pay_method"`
	PGProvider   string      `json:"pg_provider"`
	CardName     string      `json:"card_name"`
	CardNumber   string      `json:"card_number"`
	Amount       json.Number `json:"amount"`
	CancelAmount json.Number `json:"cancel_amount"`
	Currency     string      `json:"currency"`
	Status       string      `json:"status"`
	PaidAt       json.Number `json:"paid_at"`
	FailedAt     json.Number `json:"failed_at"`
	CancelledAt  json.Number `json:"cancelled_at"`
	FailReason   string      `json:"fail_reason"`
	ReceiptURL   string      `json:"receipt_url"`
	CustomerUID  string      `json:"customer_uid"`
	Channel      string      `json:"channel"`
	Sandbox      bool        `json:"sandbox"`
}

type wireCustomer struct {
	CustomerUID string      `json:"customer_uid"`
	PGProvider  string      `json:"pg_provider"`
	PGID        string      `json:"pg_id"`
	CardName    string      `json:"card_name"`
	CardNumber  string      `json:"card_number"`
	CardType    json.Number `json:"card_type"` // 0 credit, 1 check, null unknown
	Inserted    json.Number `json:"inserted"`
}

type wireSchedule struct {
	CustomerUID    string      `json:"customer_uid"`
	MerchantUID    string      `json:"merchant_uid"`
	ImpUID         string      `json:"imp_uid"`
	ScheduleAt     json.Number `json:"schedule_at"`
	ExecutedAt     json.Number `json:"executed_at"`
	RevokedAt      json.Number `json:"revoked_at"`
	Amount         json.Number `json:"amount"`
	Currency       string      `json:"currency"`
	Name           string      `json:"name"`
	CustomData     string      `json:"custom_data"`
	ScheduleStatus string      `json:"schedule_status"`
	PaymentStatus  string      `json:"payment_status"`
	FailReason     string      `json:"fail_reason"`
}

// whole converts a JSON number to int64. "9000", "9000.0" and "9e3" are
// 9000; "9000.5" is an error, never 9000. An absent number (null) is 0.
func whole(n json.Number) (int64, error) {
	s := string(n)
	if s == "" {
		return 0, nil
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if f != math.Trunc(f) {
		return 0, fmt.Errorf("%q has a fractional part", s)
	}
	if math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("%q is out of range", s)
	}
	return int64(f), nil
}

// unixTime converts Iamport's unix seconds; 0 (or null) is the zero time.
func unixTime(n json.Number) (time.Time, error) {
	s, err := whole(n)
	if err != nil || s == 0 {
		return time.Time{}, err
	}
	return time.Unix(s, 0).UTC(), nil
}

// numbers converts several JSON numbers at once, keeping the first error.
type numbers struct{ err error }

func (c *numbers) int(n json.Number) int64 {
	v, err := whole(n)
	if c.err == nil && err != nil {
		c.err = err
	}
	return v
}

func (c *numbers) time(n json.Number) time.Time {
	v, err := unixTime(n)
	if c.err == nil && err != nil {
		c.err = err
	}
	return v
}

// paymentStatus maps Iamport's status; "ready" (and anything unexpected)
// means not paid yet.
func paymentStatus(s string) providers.PaymentStatus {
	switch s {
	case "paid":
		return providers.StatusPaid
	case "failed":
		return providers.StatusFailed
	case "cancelled":
		return providers.StatusCancelled
	default:
		return providers.StatusPending
	}
}

func (w wirePayment) payment() (providers.Payment, error) {
	var n numbers
	p := providers.Payment{
		ProviderID:      w.ImpUID,
		OrderID:         w.MerchantUID,
		Status:          paymentStatus(w.Status),
		Amount:          n.int(w.Amount),
		CancelledAmount: n.int(w.CancelAmount),
		Currency:        w.Currency,
		BillingKey:      w.CustomerUID,
		Channel:         w.Channel,
		TestChannel:     w.Sandbox,
		PG:              w.PGProvider,
		PayMethod:       w.PayMethod,
		CardName:        w.CardName,
		CardNumber:      w.CardNumber,
		ReceiptURL:      w.ReceiptURL,
		FailReason:      w.FailReason,
		PaidAt:          n.time(w.PaidAt),
		FailedAt:        n.time(w.FailedAt),
		CancelledAt:     n.time(w.CancelledAt),
	}
	if p.Currency == "" {
		p.Currency = "KRW"
	}
	if n.err == nil && w.ImpUID == "" {
		n.err = errors.New("payment without imp_uid")
	}
	return p, n.err
}

func (w wireCustomer) billingKey() (providers.BillingKey, error) {
	var n numbers
	k := providers.BillingKey{
		Key:        w.CustomerUID,
		PG:         w.PGProvider,
		PGID:       w.PGID,
		CardName:   w.CardName,
		CardNumber: w.CardNumber,
		IssuedAt:   n.time(w.Inserted),
	}
	if w.CardType != "" {
		switch n.int(w.CardType) {
		case 0:
			k.CardType = "credit"
		case 1:
			k.CardType = "check"
		}
	}
	return k, n.err
}

func (w wireSchedule) scheduled() (ScheduledPayment, error) {
	var n numbers
	s := ScheduledPayment{
		CustomerUID: w.CustomerUID,
		OrderID:     w.MerchantUID,
		ProviderID:  w.ImpUID,
		At:          n.time(w.ScheduleAt),
		ExecutedAt:  n.time(w.ExecutedAt),
		RevokedAt:   n.time(w.RevokedAt),
		Amount:      n.int(w.Amount),
		Currency:    w.Currency,
		Name:        w.Name,
		CustomData:  w.CustomData,
		Status:      ScheduleStatus(w.ScheduleStatus),
		FailReason:  w.FailReason,
	}
	if w.PaymentStatus != "" {
		s.PaymentStatus = paymentStatus(w.PaymentStatus)
	}
	if s.Currency == "" {
		s.Currency = "KRW"
	}
	return s, n.err
}
