package payments

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/gateways"
	"github.com/billingd/billingd/internal/providers"
)

// MinScheduleLead is how far ahead a payment must be scheduled: the PG
// needs the schedule registered before it is due.
const MinScheduleLead = time.Minute

// ScheduleGrace is how long past its time a scheduled payment may go
// without the PG's notification before billingd asks the PG itself.
const ScheduleGrace = 10 * time.Minute

// SweepBatch is how many overdue scheduled payments one sweep looks at.
const SweepBatch = 200

// scheduleAt registers a planned payment at the PG for at. The payment is
// stored (scheduled) first; a PG that refuses leaves it canceled with the
// PG's reason; a lost answer leaves it scheduled, and the sweep asks the PG
// after it is due.
func (s *Service) scheduleAt(ctx context.Context, pl planned, at time.Time, idem Idempotency) (billing.Payment, error) {
	if pl.Payment.SubscriptionID == nil && !gateways.SchedulesVerifiable(pl.account) {
		return billing.Payment{}, gateways.ErrSchedulesUnverifiable("scheduled_at")
	}
	sched, err := s.gateways.Scheduler(pl.account)
	if err != nil {
		return billing.Payment{}, err
	}
	p := pl.Payment
	p.Status, p.ScheduledAt = billing.PaymentScheduled, &at
	if p, err = s.createPayment(ctx, pl, p, idem); err != nil {
		return p, err
	}

	pctx, cancel := s.pgContext(ctx)
	scheduleID, schedErr := sched.Schedule(pctx, providers.ScheduleRequest{
		OrderID: p.ID, BillingKey: pl.key.ProviderKey, At: at, Amount: p.Amount, TaxFree: p.TaxFree,
		OrderName: p.OrderName, Buyer: buyer(pl.customer), NoticeURL: pl.account.WebhookURL(s.publicURL),
	})
	cancel()

	// The PG's answer is recorded whether or not the client still waits.
	ctx, cancel = recordContext(ctx)
	defer cancel()
	switch {
	case schedErr == nil || errors.Is(schedErr, providers.ErrUnknown):
		err = s.withTx(ctx, func(tx pgx.Tx) error {
			if err := s.store.SetProviderScheduleID(ctx, tx, p.ID, scheduleID, schedErr == nil); err != nil {
				return err
			}
			if scheduleID != "" {
				p.ProviderScheduleID = &scheduleID
			}
			return s.event(ctx, tx, p.MerchantID, p.Mode, billing.EventPaymentScheduled, "payment", p.ID, p)
		})
		if err != nil {
			return p, err
		}
		return p, s.recheckAfterRegistration(ctx, p)
	}
	code, message := failureOf(schedErr)
	err = s.withTx(ctx, func(tx pgx.Tx) error {
		canceled, changed, err := s.store.CancelScheduledPayment(ctx, tx, p.ID, code, message)
		if err != nil || !changed {
			return err
		}
		p = canceled
		return s.event(ctx, tx, p.MerchantID, p.Mode, billing.EventPaymentCanceled, "payment", p.ID, p)
	})
	if err != nil {
		return p, err
	}
	return p, providerError("schedule", schedErr, "payment", p)
}

// Unschedule revokes a scheduled payment at the PG. If the PG ran it
// first, the payment ends as the PG says (paid or failed) and the caller
// gets a conflict carrying it: one truthful state, never both.
func (s *Service) Unschedule(ctx context.Context, c Caller, id string) (billing.Payment, error) {
	if !billing.ValidID(billing.PrefixPayment, id) {
		return billing.Payment{}, billing.NotFound("payment", id)
	}
	p, err := s.store.GetPayment(ctx, c.MerchantID, c.Mode, id)
	if err != nil {
		return p, err
	}
	return s.UnschedulePayment(ctx, p, "unscheduled")
}

// UnschedulePayment revokes a scheduled payment (see Unschedule); reason is
// recorded on the canceled payment.
func (s *Service) UnschedulePayment(ctx context.Context, p billing.Payment, reason string) (billing.Payment, error) {
	if p.Status == billing.PaymentCanceled {
		return p, nil
	}
	if p.Status != billing.PaymentScheduled {
		return p, &billing.Error{Code: billing.EConflict, Reason: "payment_not_scheduled", ObjectType: "payment", Object: p,
			Message: fmt.Sprintf("payment %s is %s, not scheduled", p.ID, p.Status)}
	}
	key, err := s.store.GetBillingKey(ctx, p.MerchantID, p.Mode, p.BillingKeyID)
	if err != nil {
		return p, err
	}
	sched, scheduleID, err := s.schedulerOf(ctx, p)
	if err != nil {
		return p, err
	}
	if needsScheduleID(p) && scheduleID == "" {
		return p, pendingConfirmation(p)
	}
	pctx, cancel := s.pgContext(ctx)
	unschedErr := sched.Unschedule(pctx, key.ProviderKey, p.ID, scheduleID)
	cancel()
	switch {
	case unschedErr == nil:
		return s.cancelScheduled(ctx, p, reason)
	case errors.Is(unschedErr, providers.ErrRejected), errors.Is(unschedErr, providers.ErrNotFound):
		// Nothing left to revoke: it ran (or was revoked) at the PG. Learn
		// which, and record it.
		settled, err := s.settleSchedule(ctx, p)
		if errors.Is(err, ErrStillUnknown) {
			// The PG would not revoke it and cannot say yet whether it ran
			// (a registration in flight, a lookup that failed, or a PG
			// without lookups): never guess; the caller retries.
			return p, pendingConfirmation(p)
		}
		if err != nil {
			return settled, err
		}
		if settled.Status == billing.PaymentCanceled {
			return settled, nil
		}
		return settled, &billing.Error{Code: billing.EConflict, Reason: "payment_already_executed", ObjectType: "payment", Object: settled,
			Message: fmt.Sprintf("the PG already ran payment %s; it is %s", p.ID, settled.Status)}
	}
	return p, providerError("unschedule", unschedErr, "", nil)
}

// SweepDueSchedules asks the PG about scheduled payments of a mode that are
// past their time (plus grace) without a notification, and records what
// it says. It returns how many it settled.
func (s *Service) SweepDueSchedules(ctx context.Context, mode billing.Mode) (int, error) {
	now := s.clock.Now(mode)
	return s.sweepSchedules(ctx, mode, now.Add(-ScheduleGrace), now, SweepBatch, 1)
}

// SettleRunSchedules asks the PG, with no grace, about every scheduled
// payment of a mode due at or before now, a few at a time. The test clock
// calls it once the sandbox has run everything due: the PG's answer is
// final already, and a notification the PG sent but billingd refused (a
// replica receives only so many at once, and Iamport sends once) must not
// leave a paid payment scheduled until the grace runs out after the
// advance has answered. A schedule the PG has not run (an account on a PG
// the test clock does not drive) waits its back-off as in the sweep.
func (s *Service) SettleRunSchedules(ctx context.Context, mode billing.Mode) (int, error) {
	now := s.clock.Now(mode)
	return s.sweepSchedules(ctx, mode, now.Add(time.Nanosecond), now, 1000, Concurrency)
}

// sweepSchedules settles up to limit scheduled payments due before before
// whose next check is due at now, parallel at a time.
func (s *Service) sweepSchedules(ctx context.Context, mode billing.Mode, before, now time.Time, limit, parallel int) (int, error) {
	due, err := s.store.DueScheduledPayments(ctx, mode, before, now, limit)
	if err != nil {
		return 0, err
	}
	var (
		mu sync.Mutex
		n  int
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for _, p := range due {
		g.Go(func() error {
			settled, err := s.settleSchedule(gctx, p)
			if err != nil {
				s.log.Warn().Err(err).Str("payment", p.ID).Msg("sweep scheduled payment")
			}
			if err == nil && settled.Status != billing.PaymentScheduled {
				mu.Lock()
				n++
				mu.Unlock()
				return nil
			}
			// The PG could not say yet: this row waits its own back-off, so the
			// next sweep reaches the rows behind it.
			return s.store.DeferScheduleCheck(gctx, p.ID, now)
		})
	}
	err = g.Wait()
	return n, err
}

// settleSchedule records what the PG did with a scheduled payment: paid or
// failed when it ran, canceled when it was revoked or never registered.
func (s *Service) settleSchedule(ctx context.Context, p billing.Payment) (billing.Payment, error) {
	sched, scheduleID, err := s.schedulerOf(ctx, p)
	if err != nil {
		return p, err
	}
	pctx, cancel := s.pgContext(ctx)
	state, lookupErr := sched.LookupSchedule(pctx, p.ID, scheduleID)
	cancel()
	switch {
	case errors.Is(lookupErr, providers.ErrNotFound):
		st, err := s.store.ScheduleStateOf(ctx, p.ID)
		if err != nil {
			return p, err
		}
		if s.registrationInFlight(p, st) {
			// The registration call may still land at the PG: its absence
			// proves nothing yet, and failing the payment now would leave a
			// schedule the PG runs and billingd never records.
			return p, errRegistrationInFlight
		}
		if st.RevokeRequestedAt != nil {
			return s.cancelScheduled(ctx, p, "never registered at the PG; "+st.RevokeReason)
		}
		// The PG never registered it: nobody was charged.
		return s.failSchedule(ctx, p, "schedule_not_found", "the PG has no record of this schedule; it never ran")
	case lookupErr != nil:
		return p, fmt.Errorf("%w: %v", ErrStillUnknown, lookupErr)
	}
	switch state.State {
	case providers.ScheduleRevoked:
		return s.cancelScheduled(ctx, p, "revoked at the PG")
	case providers.SchedulePending:
		return p, nil
	}
	if state.ProviderPaymentID == "" {
		return s.failSchedule(ctx, p, "schedule_failed", "the PG's scheduled run failed")
	}
	account, err := s.store.GetProviderAccount(ctx, p.ProviderAccountID)
	if err != nil {
		return p, err
	}
	pgClient, err := s.gateways.For(account)
	if err != nil {
		return p, err
	}
	pctx, cancel = s.pgContext(ctx)
	pg, err := pgClient.GetPayment(pctx, state.ProviderPaymentID)
	cancel()
	if err != nil {
		return p, fmt.Errorf("%w: %v", ErrStillUnknown, err)
	}
	return s.applyPG(ctx, p, pg, pathSchedule)
}

// schedulerOf is the PG scheduler of a scheduled payment's account, and the
// PG's id for the schedule (empty where the PG names schedules by order).
func (s *Service) schedulerOf(ctx context.Context, p billing.Payment) (providers.Scheduler, string, error) {
	account, err := s.store.GetProviderAccount(ctx, p.ProviderAccountID)
	if err != nil {
		return nil, "", err
	}
	sched, err := s.gateways.Scheduler(account)
	if err != nil {
		return nil, "", err
	}
	scheduleID := ""
	if p.ProviderScheduleID != nil {
		scheduleID = *p.ProviderScheduleID
	}
	return sched, scheduleID, nil
}

// failSchedule records that a scheduled charge did not happen, as a failed
// attempt: a subscription then retries it like any failed renewal.
func (s *Service) failSchedule(ctx context.Context, p billing.Payment, code, message string) (billing.Payment, error) {
	return s.settle(ctx, p, billing.Outcome{Status: billing.PaymentFailed, At: s.clock.Now(p.Mode),
		FailureCode: code, FailureMessage: message}, nil)
}

func (s *Service) cancelScheduled(ctx context.Context, p billing.Payment, reason string) (billing.Payment, error) {
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		canceled, changed, err := s.store.CancelScheduledPayment(ctx, tx, p.ID, "", reason)
		if err != nil || !changed {
			return err
		}
		return s.event(ctx, tx, canceled.MerchantID, canceled.Mode, billing.EventPaymentCanceled, "payment", canceled.ID, canceled)
	})
	if err != nil {
		return p, err
	}
	return s.store.PaymentByID(ctx, p.ID)
}

// unscheduleKey revokes every scheduled payment of a billing key about to
// be deleted. A payment the PG already ran is recorded as it ran.
func (s *Service) unscheduleKey(ctx context.Context, keyID string) error {
	list, err := s.store.ScheduledPaymentsOfKey(ctx, keyID)
	if err != nil {
		return err
	}
	for _, p := range list {
		if _, err := s.UnschedulePayment(ctx, p, "billing key deleted"); err != nil && billing.ErrorCode(err) != billing.EConflict {
			return err
		}
	}
	return nil
}
