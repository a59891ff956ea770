package payments

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/billingd/billingd/internal/billing"
)

// RevokeScheduleArgs revokes a scheduled payment at the PG, durably: it is
// queued in the transaction that cancels or pauses the subscription, and
// retried until the PG confirms the schedule is gone — or, when the PG ran
// it first, until the charge is recorded and refunded.
type RevokeScheduleArgs struct {
	PaymentID string `json:"payment_id"`
}

// Kind names the job.
func (RevokeScheduleArgs) Kind() string { return "revoke_schedule" }

// RevokeMaxAttempts is effectively "never give up": with the back-off
// capped at six hours it spans years. A schedule that may still charge a
// canceled customer is never abandoned silently.
const RevokeMaxAttempts = 10_000

// InsertOpts keeps one live job per payment.
func (RevokeScheduleArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: RevokeMaxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
		rivertype.JobStateRunning, rivertype.JobStateScheduled,
	}}}
}

// RevokeBackoff is the revoke job's schedule: 10 s, 1 m, 5 m, 30 m, 2 h,
// then every 6 h. attempt counts from 1.
func RevokeBackoff(attempt int) time.Duration {
	steps := []time.Duration{10 * time.Second, time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour}
	if attempt >= 1 && attempt <= len(steps) {
		return steps[attempt-1]
	}
	return 6 * time.Hour
}

// errStillScheduled: the PG refused to revoke a schedule it still holds.
var errStillScheduled = errors.New("the PG still holds the schedule")

// Revoke finishes the revocation of a payment marked for it: unscheduled at
// the PG and canceled, or — when the PG ran it first — recorded as the PG
// ran it and, if paid, refunded in full with the revocation's reason. An
// error means "not done yet": the job tries again.
func (s *Service) Revoke(ctx context.Context, paymentID string) (billing.Payment, error) {
	p, err := s.store.PaymentByID(ctx, paymentID)
	if err != nil {
		return p, err
	}
	st, err := s.store.ScheduleStateOf(ctx, paymentID)
	if err != nil || st.RevokeRequestedAt == nil {
		return p, err
	}
	switch {
	case p.Status.Unsettled():
		if p, err = s.Reconcile(ctx, p.ID); err != nil {
			return p, err
		}
		return s.refundRevoked(ctx, p, st.RevokeReason)
	case p.Status == billing.PaymentScheduled:
		p, err = s.UnschedulePayment(ctx, p, st.RevokeReason)
		if billing.ErrorCode(err) == billing.EConflict {
			if be := (*billing.Error)(nil); errors.As(err, &be) && be.Reason == "schedule_pending_confirmation" {
				return p, err
			}
			err = nil // the PG ran it first: p is as it ran
		}
		if err != nil {
			return p, err
		}
		if p.Status == billing.PaymentScheduled {
			return p, errStillScheduled
		}
	}
	return s.refundRevoked(ctx, p, st.RevokeReason)
}

// refundRevoked refunds what is left of a payment the PG charged after
// billingd asked it to revoke the schedule. Nothing to refund is done.
func (s *Service) refundRevoked(ctx context.Context, p billing.Payment, reason string) (billing.Payment, error) {
	if !p.Status.Refundable() {
		return p, nil
	}
	c := Caller{MerchantID: p.MerchantID, Mode: p.Mode, Secret: true}
	s.log.Warn().Str("payment", p.ID).Msg("the PG ran a schedule billingd had revoked; refunding it")
	_, refunded, err := s.Refund(ctx, c, p.ID, RefundInput{Reason: "automatic refund: the PG ran a revoked schedule (" + reason + ")"}, Idempotency{})
	if billing.ErrorCode(err) == billing.EConflict && refunded.Status == billing.PaymentRefunded {
		return refunded, nil
	}
	if err != nil {
		return refunded, fmt.Errorf("refund revoked payment %s: %w", p.ID, err)
	}
	if refunded.Status.Refundable() {
		return refunded, fmt.Errorf("refund revoked payment %s: %d KRW still refundable", p.ID, refunded.Refundable())
	}
	return refunded, nil
}
