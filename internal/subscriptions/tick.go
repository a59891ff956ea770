package subscriptions

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/payments"
	"github.com/billingd/billingd/internal/store"
)

// Renew bills the period after the current one, once the current one is
// paid. It is what the renewal job runs after a period's payment; running
// it twice (or racing it) bills nothing twice: the schema holds one live
// payment per period.
func (s *Service) Renew(ctx context.Context, id string) error {
	sub, err := s.store.SubscriptionByID(ctx, id)
	if err != nil {
		return err
	}
	if sub.Status != billing.SubscriptionActive || sub.CancelAtPeriodEnd {
		return nil
	}
	if sub.CurrentPeriod >= 0 {
		p, ok, err := s.store.LivePaymentOfPeriod(ctx, sub.ID, sub.CurrentPeriod)
		if err != nil || !ok || (p.Status != billing.PaymentPaid && p.Status != billing.PaymentPartiallyRefunded && p.Status != billing.PaymentRefunded) {
			return err // not paid yet: its settlement will renew
		}
	}
	p, err := s.payments.BillPeriod(ctx, sub, sub.CurrentPeriod+1)
	if errors.Is(err, store.ErrPeriodTaken) {
		return nil
	}
	if p.ID == "" && noChargeableKey(err) {
		return s.keyInactive(ctx, sub.ID)
	}
	if err != nil && billing.ErrorCode(err) != billing.EInternal {
		// A decline or refusal is recorded on the payment and handled by
		// dunning; only our own failures retry the job.
		s.log.Info().Err(err).Str("subscription", sub.ID).Msg("renewal not billed")
		return nil
	}
	return err
}

// retry charges a past-due subscription's current period again. The retry
// slot is leased first, so two ticks never retry together.
func (s *Service) retry(ctx context.Context, id string) error {
	var sub billing.Subscription
	err := s.store.WithTx(ctx, func(tx pgx.Tx) error {
		locked, err := s.store.LockSubscription(ctx, tx, id)
		if err != nil {
			return err
		}
		now := s.clock.Now(locked.Mode)
		if locked.Status != billing.SubscriptionPastDue || locked.NextRetryAt == nil || locked.NextRetryAt.After(now) {
			return errNotDue
		}
		lease := now.Add(leaseRetry)
		locked.NextRetryAt = &lease
		sub, err = s.store.SaveSubscription(ctx, tx, locked)
		return err
	})
	if errors.Is(err, errNotDue) {
		return nil
	}
	if err != nil {
		return err
	}
	p, err := s.payments.BillPeriod(ctx, sub, sub.CurrentPeriod)
	if p.ID == "" && noChargeableKey(err) {
		return s.keyInactive(ctx, sub.ID)
	}
	if err != nil && billing.ErrorCode(err) != billing.EInternal {
		return nil // recorded on the payment; the subscription moved with it
	}
	return err
}

// noChargeableKey reports whether billing refused before any payment was
// made because there is no active key to charge (the key, or the
// customer's default, was deleted or is no longer active; the customer was
// deleted). Retrying changes nothing until the merchant sets a new key.
func noChargeableKey(err error) bool {
	return billing.ErrorCode(err) == billing.EInvalid
}

// keyInactive moves a subscription with no chargeable key to unpaid
// (billing_key_inactive) instead of retrying it every hour forever.
func (s *Service) keyInactive(ctx context.Context, id string) error {
	return s.store.WithTx(ctx, func(tx pgx.Tx) error {
		sub, err := s.store.LockSubscription(ctx, tx, id)
		if err != nil {
			return err
		}
		next, typ := sub.KeyInactive()
		if typ == "" {
			return nil
		}
		s.log.Warn().Str("subscription", id).Msg("subscription has no active billing key; unpaid until the merchant sets one")
		if next, err = s.store.SaveSubscription(ctx, tx, next); err != nil {
			return err
		}
		return s.store.InsertEvent(ctx, tx, billing.NewEvent(next.MerchantID, next.Mode, typ, "subscription", next.ID, next))
	})
}

// endPeriod cancels a subscription whose period ended with
// cancel_at_period_end set.
func (s *Service) endPeriod(ctx context.Context, id string) error {
	return s.store.WithTx(ctx, func(tx pgx.Tx) error {
		sub, err := s.store.LockSubscription(ctx, tx, id)
		if err != nil {
			return err
		}
		now := s.clock.Now(sub.Mode)
		if !sub.CancelAtPeriodEnd || sub.Status == billing.SubscriptionCanceled || sub.CurrentPeriodEnd == nil || sub.CurrentPeriodEnd.After(now) {
			return nil
		}
		end := *sub.CurrentPeriodEnd
		sub.Status, sub.CanceledAt, sub.NextRetryAt = billing.SubscriptionCanceled, &end, nil
		if sub, err = s.store.SaveSubscription(ctx, tx, sub); err != nil {
			return err
		}
		return s.store.InsertEvent(ctx, tx, billing.NewEvent(sub.MerchantID, sub.Mode, billing.EventSubscriptionCanceled, "subscription", sub.ID, sub))
	})
}

// Tick does every piece of due work of one mode: scheduled payments the PG
// should have reported, renewals not yet billed, retries due, and periods
// ending a canceled subscription. A periodic job runs it for both modes;
// the test clock runs it after each step. It returns how much it did.
func (s *Service) Tick(ctx context.Context, mode billing.Mode) (int, error) {
	done, err := s.payments.SweepDueSchedules(ctx, mode)
	if err != nil {
		return done, err
	}
	now := s.clock.Now(mode)
	steps := []struct {
		list func() ([]billing.Subscription, error)
		do   func(context.Context, string) error
	}{
		{func() ([]billing.Subscription, error) { return s.store.SubscriptionsToRenew(ctx, mode, 500) }, s.Renew},
		{func() ([]billing.Subscription, error) { return s.store.SubscriptionsToRetry(ctx, mode, now, 500) }, s.retry},
		{func() ([]billing.Subscription, error) { return s.store.SubscriptionsEndingPeriod(ctx, mode, now, 500) }, s.endPeriod},
	}
	for _, step := range steps {
		subs, err := step.list()
		if err != nil {
			return done, err
		}
		var (
			g  errgroup.Group
			ok atomic.Int64
		)
		g.SetLimit(payments.Concurrency)
		for _, sub := range subs {
			g.Go(func() error {
				if err := step.do(ctx, sub.ID); err != nil {
					s.log.Warn().Err(err).Str("subscription", sub.ID).Msg("subscription due work")
					return nil
				}
				ok.Add(1)
				return nil
			})
		}
		_ = g.Wait()
		done += int(ok.Load())
	}
	return done, nil
}

// NextDue is the earliest due time of a mode after t: a scheduled payment,
// a retry or a period end. Nil when nothing is waiting.
func (s *Service) NextDue(ctx context.Context, mode billing.Mode, after time.Time) (*time.Time, error) {
	a, err := s.store.NextScheduledAt(ctx, mode, after)
	if err != nil {
		return nil, err
	}
	b, err := s.store.NextSubscriptionDue(ctx, mode, after)
	if err != nil {
		return nil, err
	}
	switch {
	case a == nil:
		return b, nil
	case b == nil || a.Before(*b):
		return a, nil
	}
	return b, nil
}
