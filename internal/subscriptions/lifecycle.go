package subscriptions

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"strings"
	"unicode/utf8"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/payments"
)

// UpdateInput changes what later periods bill. Absent fields stay.
type UpdateInput struct {
	Amount       *int64         `json:"amount"`
	OrderName    *string        `json:"order_name"`
	BillingKeyID *string        `json:"billing_key_id"`
	Metadata     map[string]any `json:"metadata"`
}

// Update changes amount, order name, key or metadata from the next period
// on: a payment already registered at the PG for the next period is
// replaced. If the PG runs it first, that period is billed as it was and
// the change starts with the one after.
func (s *Service) Update(ctx context.Context, c payments.Caller, id string, in UpdateInput) (billing.Subscription, error) {
	if in.Amount != nil && (*in.Amount <= 0 || *in.Amount > billing.MaxSubscriptionAmount) {
		return billing.Subscription{}, billing.Invalid("amount", "amount must be a whole number of KRW from 1 to %d", billing.MaxSubscriptionAmount)
	}
	if in.OrderName != nil {
		name := strings.TrimSpace(*in.OrderName)
		if name == "" || utf8.RuneCountInString(name) > 100 {
			return billing.Subscription{}, billing.Invalid("order_name", "order_name must be 1 to 100 characters")
		}
		in.OrderName = &name
	}
	if in.Metadata != nil {
		if err := billing.ValidateMetadata(in.Metadata); err != nil {
			return billing.Subscription{}, err
		}
	}
	if in.BillingKeyID != nil {
		sub, err := s.Get(ctx, c, id)
		if err != nil {
			return sub, err
		}
		if err := s.checkChargeable(ctx, c, sub.CustomerID, *in.BillingKeyID); err != nil {
			return sub, err
		}
	}
	sub, err := s.change(ctx, c, id, func(tx pgx.Tx, sub *billing.Subscription) (string, error) {
		if sub.Status == billing.SubscriptionCanceled {
			return "", conflict("subscription_canceled", "subscription %s is canceled", sub.ID)
		}
		if err := s.payments.UnconfirmedSchedule(ctx, tx, sub.ID); err != nil {
			return "", err // the waiting payment could not be replaced yet
		}
		if in.Amount != nil {
			sub.Amount = *in.Amount
			if sub.TaxFree > sub.Amount {
				sub.TaxFree = sub.Amount
			}
		}
		if in.OrderName != nil {
			sub.OrderName = *in.OrderName
		}
		if in.BillingKeyID != nil {
			sub.BillingKeyID = in.BillingKeyID
			// An active key (checked above) ends a wait for one: the
			// period is retried at once.
			*sub = sub.WithNewKey(s.clock.Now(sub.Mode))
		}
		if in.Metadata != nil {
			sub.Metadata = in.Metadata
		}
		return billing.EventSubscriptionUpdated, nil
	})
	if err != nil {
		return sub, err
	}
	return s.replaceScheduled(ctx, sub)
}

// replaceScheduled re-registers the subscription's waiting payment with
// its current terms.
func (s *Service) replaceScheduled(ctx context.Context, sub billing.Subscription) (billing.Subscription, error) {
	p, ok, err := s.store.ScheduledPaymentOfSubscription(ctx, sub.ID)
	if err != nil || !ok {
		return sub, err
	}
	canceled, err := s.payments.UnschedulePayment(ctx, p, "replaced by a subscription change")
	if billing.ErrorCode(err) == billing.EConflict {
		return s.store.SubscriptionByID(ctx, sub.ID) // the PG ran it first
	}
	if err != nil {
		return sub, err
	}
	if canceled.Status == billing.PaymentCanceled && sub.Status.Live() {
		if _, err := s.payments.BillPeriod(ctx, sub, *p.Period); err != nil && billing.ErrorCode(err) != billing.EConflict {
			return sub, err
		}
	}
	return s.store.SubscriptionByID(ctx, sub.ID)
}

// Pause stops billing: the waiting payment is revoked at the PG.
func (s *Service) Pause(ctx context.Context, c payments.Caller, id string) (billing.Subscription, error) {
	sub, err := s.change(ctx, c, id, func(tx pgx.Tx, sub *billing.Subscription) (string, error) {
		if sub.Status == billing.SubscriptionPaused {
			return "", s.payments.RequestRevokeTx(ctx, tx, sub.ID, "subscription paused")
		}
		if !sub.Status.Live() {
			return "", conflict("subscription_not_live", "subscription %s is %s; only active or past-due subscriptions pause", sub.ID, sub.Status)
		}
		if err := s.revokeScheduled(ctx, tx, sub.ID, "subscription paused"); err != nil {
			return "", err
		}
		now := s.clock.Now(sub.Mode)
		sub.Status, sub.PausedAt, sub.NextRetryAt = billing.SubscriptionPaused, &now, nil
		return billing.EventSubscriptionPaused, nil
	})
	if err != nil {
		return sub, err
	}
	return s.tryRevoke(ctx, sub)
}

// Resume bills again from the next period boundary; periods that passed
// while paused are not billed.
func (s *Service) Resume(ctx context.Context, c payments.Caller, id string) (billing.Subscription, error) {
	sub, err := s.change(ctx, c, id, func(_ pgx.Tx, sub *billing.Subscription) (string, error) {
		if sub.Status != billing.SubscriptionPaused {
			return "", conflict("subscription_not_paused", "subscription %s is %s, not paused", sub.ID, sub.Status)
		}
		if sub.PGSchedule.Status == billing.PGScheduleRevoking {
			// Billing again now would meet the payment still being revoked
			// (and refunded, should the PG run it): wait for the PG.
			return "", &billing.Error{Code: billing.EConflict, Reason: "schedule_pending_confirmation",
				Message: fmt.Sprintf("the payment the pause revoked is not confirmed gone at the PG yet; retry the resume in a minute (subscription %s)", sub.ID)}
		}
		sub.Status, sub.PausedAt, sub.RetryCount = billing.SubscriptionActive, nil, 0
		return billing.EventSubscriptionResumed, nil
	})
	if err != nil {
		return sub, err
	}
	next := sub.PeriodAt(s.clock.Now(sub.Mode)) + 1
	if next <= sub.CurrentPeriod {
		next = sub.CurrentPeriod + 1
	}
	if _, err := s.payments.BillPeriod(ctx, sub, next); err != nil && billing.ErrorCode(err) != billing.EConflict {
		return sub, err
	}
	return s.store.SubscriptionByID(ctx, sub.ID)
}

// Cancel ends a subscription now, or at the end of its current period.
// Either way the payment waiting at the PG is revoked: nothing more is
// billed.
func (s *Service) Cancel(ctx context.Context, c payments.Caller, id string, atPeriodEnd bool) (billing.Subscription, error) {
	sub, err := s.change(ctx, c, id, func(tx pgx.Tx, sub *billing.Subscription) (string, error) {
		if sub.Status == billing.SubscriptionCanceled {
			return "", s.payments.RequestRevokeTx(ctx, tx, sub.ID, "subscription canceled")
		}
		if err := s.revokeScheduled(ctx, tx, sub.ID, "subscription canceled"); err != nil {
			return "", err
		}
		if atPeriodEnd && sub.CurrentPeriodEnd != nil && sub.Status != billing.SubscriptionPaused {
			sub.CancelAtPeriodEnd = true
			return billing.EventSubscriptionUpdated, nil
		}
		now := s.clock.Now(sub.Mode)
		sub.Status, sub.CanceledAt, sub.NextRetryAt = billing.SubscriptionCanceled, &now, nil
		return billing.EventSubscriptionCanceled, nil
	})
	if err != nil {
		return sub, err
	}
	return s.tryRevoke(ctx, sub)
}
