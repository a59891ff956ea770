package payments

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/billing"
)

// BillPeriod makes the payment of subscription period n: registered at the
// PG for the period's start, or charged now when the start has come. The
// payment carries the subscription and period, so the schema's one live
// payment per period holds. A period is entered (becomes current) when its
// charge starts: now, in the transaction that creates the payment, or when
// the PG's scheduled run settles.
func (s *Service) BillPeriod(ctx context.Context, sub billing.Subscription, n int) (billing.Payment, error) {
	c := Caller{MerchantID: sub.MerchantID, Mode: sub.Mode, Secret: true}
	in := ChargeInput{CustomerID: sub.CustomerID}
	if sub.BillingKeyID != nil {
		in.BillingKeyID = *sub.BillingKeyID
	}
	key, customer, err := s.chargeableKey(ctx, c, in)
	if err != nil {
		return billing.Payment{}, err
	}
	pl, err := s.plan(ctx, c, key, customer)
	if err != nil {
		return billing.Payment{}, err
	}
	start := sub.PeriodStart(n)
	pl.Payment.Amount, pl.Payment.TaxFree, pl.Payment.OrderName = sub.Amount, sub.TaxFree, sub.OrderName
	pl.Payment.Metadata = sub.Metadata
	pl.Payment.SubscriptionID, pl.Payment.Period, pl.Payment.PeriodStart = &sub.ID, &n, &start
	later := start.After(s.clock.Now(sub.Mode).Add(MinScheduleLead))
	pl.inTx = func(ctx context.Context, tx pgx.Tx) error {
		locked, err := s.store.LockSubscription(ctx, tx, sub.ID)
		if err != nil {
			return err
		}
		if !locked.Status.Live() {
			return &billing.Error{Code: billing.EConflict, Reason: "subscription_not_live",
				Message: fmt.Sprintf("subscription %s is %s", sub.ID, locked.Status)}
		}
		if !later && n > locked.CurrentPeriod {
			_, err = s.store.SaveSubscription(ctx, tx, locked.EnterPeriod(n))
		}
		return err
	}
	if later {
		return s.scheduleAt(ctx, pl, start, Idempotency{})
	}
	return s.chargeNow(ctx, pl, Idempotency{})
}

// lockSubscriptionOf locks the subscription of a period payment, before
// the payment changes: every transaction that touches both takes the
// subscription first (BillPeriod locks it, then inserts the period's
// payment, whose unique index waits on a payment of that period being
// settled), so two of them never wait on each other.
func (s *Service) lockSubscriptionOf(ctx context.Context, tx pgx.Tx, p billing.Payment) error {
	if p.SubscriptionID == nil {
		return nil
	}
	_, err := s.store.LockSubscription(ctx, tx, *p.SubscriptionID)
	return err
}

// afterSubscriptionSettle moves the subscription of a settled period
// payment: paid renews it (and queues billing of the next period), failed
// starts or continues dunning.
func (s *Service) afterSubscriptionSettle(ctx context.Context, tx pgx.Tx, p billing.Payment) error {
	if p.SubscriptionID == nil || p.Period == nil {
		return nil
	}
	sub, err := s.store.LockSubscription(ctx, tx, *p.SubscriptionID)
	if err != nil {
		return err
	}
	entered := false
	if *p.Period > sub.CurrentPeriod && (p.Status == billing.PaymentPaid || p.Status == billing.PaymentFailed) {
		// A period registered ahead at the PG begins when the PG runs it.
		sub, entered = sub.EnterPeriod(*p.Period), true
	}
	var (
		next billing.Subscription
		typ  string
	)
	switch p.Status {
	case billing.PaymentPaid:
		next, typ = sub.PeriodPaid(*p.Period)
	case billing.PaymentFailed:
		settings, err := s.store.MerchantSettings(ctx, tx, sub.MerchantID)
		if err != nil {
			return err
		}
		code, message := "", ""
		if p.FailureCode != nil {
			code = *p.FailureCode
		}
		if p.FailureMessage != nil {
			message = *p.FailureMessage
		}
		at := s.clock.Now(sub.Mode)
		if billing.IsOperatorFailure(code) {
			// Not the customer's doing: page the operator, keep the
			// customer's retry count, try the period again later.
			s.log.Error().Str("payment", p.ID).Str("subscription", sub.ID).Str("provider", p.Provider).Str("failure_code", code).
				Msg("subscription charge failed for a reason that is not the customer's; the operator must act")
			s.metrics.ObserveOperatorFailure(p.Provider, code)
			next, typ = sub.PeriodFailedByOperator(*p.Period, at, billing.DunningFrom(settings))
			break
		}
		next, typ = sub.PeriodFailed(*p.Period, at, billing.DunningFrom(settings), billing.IsHardDecline(code, message))
	default:
		return nil
	}
	if typ != "" || entered {
		saved, err := s.store.SaveSubscription(ctx, tx, next)
		if err != nil {
			return err
		}
		next = saved
	}
	if typ != "" {
		if err := s.event(ctx, tx, next.MerchantID, next.Mode, typ, "subscription", next.ID, next); err != nil {
			return err
		}
	}
	if p.Status == billing.PaymentPaid && next.Status == billing.SubscriptionActive && !next.CancelAtPeriodEnd && s.queue != nil {
		if _, err := s.queue.InsertTx(ctx, tx, RenewSubscriptionArgs{SubscriptionID: next.ID}, nil); err != nil {
			return fmt.Errorf("queue renewal of %s: %w", next.ID, err)
		}
	}
	return nil
}
