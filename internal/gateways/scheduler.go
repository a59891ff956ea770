package gateways

import (
	"context"
	"fmt"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/providers"
	"github.com/billingd/billingd/internal/providers/bootpay"
	"github.com/billingd/billingd/internal/providers/iamport"
)

// Scheduler returns the account's PG as a providers.Scheduler: Iamport's
// schedule/unschedule, Bootpay's reserve or PortOne V2's payment schedules
// (which the portone adapter implements itself), behind one contract.
func (g *Gateways) Scheduler(a billing.ProviderAccount) (providers.Scheduler, error) {
	switch a.Provider {
	case providers.Iamport:
		c, err := g.Iamport(a)
		return iamportScheduler{c}, err
	case providers.Bootpay:
		c, err := g.Bootpay(a)
		return bootpayScheduler{c}, err
	case providers.Portone:
		c, err := g.Portone(a)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	return nil, fmt.Errorf("gateways: %s cannot schedule payments", a.Provider)
}

type iamportScheduler struct{ c *iamport.Client }

func (s iamportScheduler) Schedule(ctx context.Context, r providers.ScheduleRequest) (string, error) {
	_, err := s.c.Schedule(ctx, iamport.ScheduleRequest{CustomerUID: r.BillingKey, NoticeURL: r.NoticeURL,
		Items: []iamport.ScheduleItem{{OrderID: r.OrderID, At: r.At, Amount: r.Amount, TaxFree: r.TaxFree, Name: r.OrderName, Buyer: r.Buyer}}})
	return "", err // Iamport names schedules by merchant_uid
}

func (s iamportScheduler) Unschedule(ctx context.Context, billingKey, orderID, _ string) error {
	_, err := s.c.Unschedule(ctx, billingKey, []string{orderID})
	return err
}

func (s iamportScheduler) LookupSchedule(ctx context.Context, orderID, _ string) (providers.Schedule, error) {
	sp, err := s.c.GetSchedule(ctx, orderID)
	if err != nil {
		return providers.Schedule{}, err
	}
	state := providers.SchedulePending
	switch sp.Status {
	case iamport.ScheduleExecuted:
		state = providers.ScheduleExecuted
	case iamport.ScheduleRevoked:
		state = providers.ScheduleRevoked
	}
	return providers.Schedule{State: state, ProviderPaymentID: sp.ProviderID}, nil
}

type bootpayScheduler struct{ c *bootpay.Client }

func (s bootpayScheduler) Schedule(ctx context.Context, r providers.ScheduleRequest) (string, error) {
	return s.c.Reserve(ctx, bootpay.ReserveRequest{BillingKey: r.BillingKey, OrderID: r.OrderID, Amount: r.Amount,
		TaxFree: r.TaxFree, OrderName: r.OrderName, At: r.At, FeedbackURL: r.NoticeURL})
}

func (s bootpayScheduler) Unschedule(ctx context.Context, _, _, scheduleID string) error {
	return s.c.CancelReserve(ctx, scheduleID)
}

func (s bootpayScheduler) LookupSchedule(ctx context.Context, _, scheduleID string) (providers.Schedule, error) {
	rv, err := s.c.LookupReserve(ctx, scheduleID)
	if err != nil {
		return providers.Schedule{}, err
	}
	state := providers.SchedulePending
	switch rv.Status {
	case bootpay.ReserveDone, bootpay.ReserveFailed:
		state = providers.ScheduleExecuted
	case bootpay.ReserveCancelled:
		state = providers.ScheduleRevoked
	}
	return providers.Schedule{State: state, ProviderPaymentID: rv.ReceiptID}, nil
}

// SchedulesVerifiable reports whether billingd can ask the account's PG
// what became of a schedule. Legacy Bootpay v1 has no reservation lookup:
// a reservation whose reply or revocation reply was lost there can be
// settled only by Bootpay's feedback webhook, so billingd does not start
// new ones (see the README's Bootpay section).
func SchedulesVerifiable(a billing.ProviderAccount) bool {
	version, _ := a.Settings["api_version"].(string)
	return a.Provider != providers.Bootpay || version != bootpay.V1
}

// ErrSchedulesUnverifiable refuses a new schedule on an account whose PG
// cannot look schedules up.
func ErrSchedulesUnverifiable(param string) error {
	return &billing.Error{Code: billing.EInvalid, Reason: "provider_capability", Param: param,
		Message: "legacy Bootpay v1 has no reservation lookup, so billingd could not guarantee that a reservation is revoked or " +
			"recorded; scheduled payments and subscriptions need a Bootpay v2 account (charges and refunds work on v1)"}
}
