package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/billing"
)

// SetProviderScheduleID records the PG's id for a scheduled payment and,
// when confirmed, that the PG answered its registration (a lost answer
// leaves it unconfirmed).
func (s *Store) SetProviderScheduleID(ctx context.Context, tx pgx.Tx, paymentID, scheduleID string, confirmed bool) error {
	_, err := tx.Exec(ctx, `UPDATE payments SET provider_schedule_id = coalesce(nullif($2, ''), provider_schedule_id),
		schedule_registered_at = CASE WHEN $3 THEN coalesce(schedule_registered_at, now()) ELSE schedule_registered_at END,
		updated_at = now() WHERE id = $1`, paymentID, scheduleID, confirmed)
	if err != nil {
		return fmt.Errorf("record schedule id of %s: %w", paymentID, err)
	}
	return nil
}

// CancelScheduledPayment moves a scheduled payment to canceled (it was
// unscheduled, or never reached the PG). It reports false when the payment
// was no longer scheduled — the PG ran it first.
func (s *Store) CancelScheduledPayment(ctx context.Context, tx pgx.Tx, id, code, message string) (billing.Payment, bool, error) {
	p, err := scanPayment(tx.QueryRow(ctx, `
		UPDATE payments SET status = 'canceled', failure_code = nullif($2, ''), failure_message = nullif($3, ''), updated_at = now()
		WHERE id = $1 AND status = 'scheduled' RETURNING `+paymentColumns, id, code, message))
	if errors.Is(err, pgx.ErrNoRows) {
		return p, false, nil
	}
	if err != nil {
		return p, false, fmt.Errorf("cancel scheduled payment %s: %w", id, err)
	}
	return p, true, nil
}

// DueScheduledPayments lists scheduled payments of a mode due before t
// whose next check (see DeferScheduleCheck) has come by now, those waiting
// longest first.
func (s *Store) DueScheduledPayments(ctx context.Context, mode billing.Mode, before, now time.Time, limit int) ([]billing.Payment, error) {
	return s.listPayments(ctx, `WHERE status = 'scheduled' AND mode = $1 AND scheduled_at < $2
		AND coalesce(next_schedule_check_at, scheduled_at) <= $3
		ORDER BY coalesce(next_schedule_check_at, scheduled_at) LIMIT $4`, mode, before, now, limit)
}

// ScheduledPaymentsOfKey lists a billing key's scheduled payments.
func (s *Store) ScheduledPaymentsOfKey(ctx context.Context, keyID string) ([]billing.Payment, error) {
	return s.listPayments(ctx, `WHERE status = 'scheduled' AND billing_key_id = $1 ORDER BY scheduled_at`, keyID)
}

// ScheduledPaymentOfSubscription returns a subscription's scheduled
// payment, if it has one.
func (s *Store) ScheduledPaymentOfSubscription(ctx context.Context, subscriptionID string) (billing.Payment, bool, error) {
	list, err := s.listPayments(ctx, `WHERE status = 'scheduled' AND subscription_id = $1 ORDER BY period DESC LIMIT 1`, subscriptionID)
	if err != nil || len(list) == 0 {
		return billing.Payment{}, false, err
	}
	return list[0], true, nil
}

// LivePaymentOfPeriod returns the payment that holds a subscription period
// (any status but failed and canceled), if any.
func (s *Store) LivePaymentOfPeriod(ctx context.Context, subscriptionID string, period int) (billing.Payment, bool, error) {
	list, err := s.listPayments(ctx, `WHERE subscription_id = $1 AND period = $2 AND status NOT IN ('failed', 'canceled')`, subscriptionID, period)
	if err != nil || len(list) == 0 {
		return billing.Payment{}, false, err
	}
	return list[0], true, nil
}

// NextScheduledAt is the earliest due time of a scheduled payment of a mode
// after t, for the test clock's stepping.
func (s *Store) NextScheduledAt(ctx context.Context, mode billing.Mode, after time.Time) (*time.Time, error) {
	var next *time.Time
	err := s.pool.QueryRow(ctx, `SELECT min(scheduled_at) FROM payments WHERE status = 'scheduled' AND mode = $1 AND scheduled_at > $2`,
		mode, after).Scan(&next)
	if err != nil {
		return nil, fmt.Errorf("next scheduled payment: %w", err)
	}
	return next, nil
}

func (s *Store) listPayments(ctx context.Context, where string, args ...any) ([]billing.Payment, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+paymentColumns+` FROM payments `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list payments: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (billing.Payment, error) { return scanPayment(row) })
}
