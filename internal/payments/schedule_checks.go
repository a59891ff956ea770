package payments

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/providers"
	"github.com/billingd/billingd/internal/store"
)

// errRegistrationInFlight: the PG says it has no such schedule, but the
// call registering it may not have reached the PG yet.
var errRegistrationInFlight = fmt.Errorf("%w: the schedule's registration may still be in flight", ErrStillUnknown)

// registrationInFlight reports whether a scheduled payment's registration
// call may still be on its way to the PG: unconfirmed, and created less
// than a PG call's timeout (plus a margin) ago. Real time: created_at is
// the database's.
func (s *Service) registrationInFlight(p billing.Payment, st store.ScheduleState) bool {
	return st.RegisteredAt == nil && time.Since(p.CreatedAt) < s.pgTimeout+time.Minute
}

// needsScheduleID reports whether the PG names the payment's schedule by an
// id of its own (Bootpay's reserve_id), without which it can be neither
// revoked nor looked up.
func needsScheduleID(p billing.Payment) bool { return p.Provider == providers.Bootpay }

// pendingConfirmation is the answer to revoking a schedule billingd cannot
// revoke yet: the PG's answer to its registration is not in (Bootpay's
// reserve_id is unknown, or the call is in flight). Retryable: billingd
// keeps trying to learn it.
func pendingConfirmation(p billing.Payment) error {
	return &billing.Error{Code: billing.EConflict, Reason: "schedule_pending_confirmation", ObjectType: "payment", Object: p,
		Message: fmt.Sprintf("the PG has not confirmed the registration of payment %s yet, so it cannot be revoked now; "+
			"billingd keeps asking the PG — retry in a minute", p.ID)}
}

// recheckAfterRegistration looks at the subscription of a payment just
// registered at the PG: one canceled, paused or set to end while the call
// was in flight must not keep a live schedule, so the payment is marked
// for revocation and the revoke job queued.
func (s *Service) recheckAfterRegistration(ctx context.Context, p billing.Payment) error {
	if p.SubscriptionID == nil {
		return nil
	}
	revoke := false
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		sub, err := s.store.LockSubscription(ctx, tx, *p.SubscriptionID)
		if err != nil {
			return err
		}
		if sub.Status.Live() && !sub.CancelAtPeriodEnd {
			return nil
		}
		revoke = true
		return s.requestRevoke(ctx, tx, "", p.ID, fmt.Sprintf("subscription %s while its registration was in flight", sub.Status))
	})
	if err != nil || !revoke {
		return err
	}
	s.TryRevoke(ctx, p.ID)
	return nil
}

// TryRevoke makes one attempt at revoking a payment marked for it, right
// away; whatever it cannot finish, the revoke job will.
func (s *Service) TryRevoke(ctx context.Context, paymentID string) {
	if _, err := s.Revoke(ctx, paymentID); err != nil {
		s.log.Info().Err(err).Str("payment", paymentID).Msg("revoke not finished; the revoke job retries it")
	}
}

// RequestRevokeTx marks every scheduled payment of a subscription for
// revocation at the PG and queues one revoke job per payment, in tx — the
// transaction that cancels or pauses the subscription, so the intent
// cannot be lost between the two.
func (s *Service) RequestRevokeTx(ctx context.Context, tx pgx.Tx, subscriptionID, reason string) error {
	return s.requestRevoke(ctx, tx, subscriptionID, "", reason)
}

func (s *Service) requestRevoke(ctx context.Context, tx pgx.Tx, subscriptionID, paymentID, reason string) error {
	list, err := s.store.RequestRevoke(ctx, tx, subscriptionID, paymentID, reason)
	if err != nil {
		return err
	}
	for _, p := range list {
		if err := s.enqueueRevoke(ctx, tx, p.ID); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) enqueueRevoke(ctx context.Context, tx pgx.Tx, paymentID string) error {
	if s.queue == nil {
		return nil
	}
	// The caller tries once itself right after committing; the job is the
	// guarantee, so it starts a little later rather than racing that try.
	opts := RevokeScheduleArgs{}.InsertOpts()
	opts.ScheduledAt = time.Now().Add(RevokeBackoff(1))
	if _, err := s.queue.InsertTx(ctx, tx, RevokeScheduleArgs{PaymentID: paymentID}, &opts); err != nil {
		return fmt.Errorf("queue revoke of %s: %w", paymentID, err)
	}
	return nil
}

// UnconfirmedSchedule returns the first of a subscription's scheduled
// payments that cannot be revoked yet because the PG has not confirmed its
// registration and names schedules by an id billingd does not have, as a
// pendingConfirmation error; nil when every one can be revoked. Run it in
// the transaction that locked the subscription.
func (s *Service) UnconfirmedSchedule(ctx context.Context, tx pgx.Tx, subscriptionID string) error {
	list, err := s.store.UnconfirmedSchedulesOf(ctx, tx, subscriptionID)
	if err != nil {
		return err
	}
	for _, p := range list {
		if needsScheduleID(p) && p.ProviderScheduleID == nil {
			return pendingConfirmation(p)
		}
	}
	return nil
}
