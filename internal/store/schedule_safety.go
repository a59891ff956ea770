package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/billing"
)

// DeferScheduleCheck backs one scheduled payment off the overdue sweep
// after the PG could not say what became of it: 5 minutes after now, then
// doubling up to 6 hours, and never given up. Each row backs off on its
// own, so rows stuck at the PG never hold back newer ones.
func (s *Store) DeferScheduleCheck(ctx context.Context, id string, now time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE payments SET schedule_checks = schedule_checks + 1,
		next_schedule_check_at = $2::timestamptz + make_interval(secs => least(300 * power(2, least(schedule_checks, 12)), 21600))
		WHERE id = $1 AND status = 'scheduled'`, id, now)
	if err != nil {
		return fmt.Errorf("defer schedule check of %s: %w", id, err)
	}
	return nil
}

// ScheduleState is what billingd knows of a scheduled payment's life at
// the PG beyond its status.
type ScheduleState struct {
	// RegisteredAt is when the PG confirmed the registration; nil while the
	// call may be in flight, or when its answer was lost.
	RegisteredAt *time.Time
	// RevokeRequestedAt is set once the payment must be revoked.
	RevokeRequestedAt *time.Time
	RevokeReason      string
}

// ScheduleStateOf reads a payment's ScheduleState.
func (s *Store) ScheduleStateOf(ctx context.Context, paymentID string) (ScheduleState, error) {
	var (
		st     ScheduleState
		reason *string
	)
	err := s.pool.QueryRow(ctx, `SELECT schedule_registered_at, revoke_requested_at, revoke_reason FROM payments WHERE id = $1`,
		paymentID).Scan(&st.RegisteredAt, &st.RevokeRequestedAt, &reason)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, billing.NotFound("payment", paymentID)
	}
	if err != nil {
		return st, fmt.Errorf("schedule state of %s: %w", paymentID, err)
	}
	if reason != nil {
		st.RevokeReason = *reason
	}
	return st, nil
}

// RequestRevoke marks the scheduled payments of a subscription (or the one
// payment, when paymentID is set) as to be revoked at the PG, and returns
// those it marked or had marked. Run it in the transaction that changes the
// subscription, with the job that does the revoking.
func (s *Store) RequestRevoke(ctx context.Context, tx pgx.Tx, subscriptionID, paymentID, reason string) ([]billing.Payment, error) {
	rows, err := tx.Query(ctx, `UPDATE payments SET revoke_requested_at = coalesce(revoke_requested_at, now()),
		revoke_reason = coalesce(revoke_reason, $3), updated_at = now()
		WHERE status = 'scheduled' AND (($1 <> '' AND subscription_id = $1) OR ($2 <> '' AND id = $2))
		RETURNING `+paymentColumns, subscriptionID, paymentID, reason)
	if err != nil {
		return nil, fmt.Errorf("request revoke: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (billing.Payment, error) { return scanPayment(row) })
	if err != nil {
		return nil, fmt.Errorf("request revoke: %w", err)
	}
	return list, nil
}

// UnconfirmedSchedulesOf lists a subscription's scheduled payments whose PG
// registration is not confirmed, in tx.
func (s *Store) UnconfirmedSchedulesOf(ctx context.Context, tx pgx.Tx, subscriptionID string) ([]billing.Payment, error) {
	rows, err := tx.Query(ctx, `SELECT `+paymentColumns+` FROM payments
		WHERE subscription_id = $1 AND status = 'scheduled' AND schedule_registered_at IS NULL`, subscriptionID)
	if err != nil {
		return nil, fmt.Errorf("unconfirmed schedules of %s: %w", subscriptionID, err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (billing.Payment, error) { return scanPayment(row) })
}
