package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/audit"
	"github.com/billingd/billingd/internal/billing"
)

var subscriptionColumns = `s.id, s.merchant_id, s.mode, s.customer_id, s.billing_key_id, s.amount, s.tax_free, s.order_name, s.interval_unit,
	s.interval_count, s.anchor, s.timezone, s.status, s.current_period, s.current_period_start, s.current_period_end,
	s.cancel_at_period_end, s.retry_count, s.next_retry_at, s.metadata, s.canceled_at, s.paused_at, s.created_at, s.updated_at,
	s.status_reason, ` + pgScheduleOf("s.id")

// returningSubscription is subscriptionColumns for INSERT/UPDATE …
// RETURNING, where the table has no alias.
var returningSubscription = strings.ReplaceAll(strings.TrimSuffix(subscriptionColumns, pgScheduleOf("s.id")), "s.", "") +
	pgScheduleOf("subscriptions.id")

func scanSubscription(row pgx.Row) (billing.Subscription, error) {
	var s billing.Subscription
	err := row.Scan(&s.ID, &s.MerchantID, &s.Mode, &s.CustomerID, &s.BillingKeyID, &s.Amount, &s.TaxFree, &s.OrderName,
		&s.Interval, &s.IntervalCount, &s.Anchor, &s.Timezone, &s.Status, &s.CurrentPeriod, &s.CurrentPeriodStart,
		&s.CurrentPeriodEnd, &s.CancelAtPeriodEnd, &s.RetryCount, &s.NextRetryAt, &s.Metadata, &s.CanceledAt,
		&s.PausedAt, &s.CreatedAt, &s.UpdatedAt, &s.StatusReason, &s.PGSchedule)
	return s, err
}

// CreateSubscription inserts a subscription.
func (s *Store) CreateSubscription(ctx context.Context, tx pgx.Tx, sub billing.Subscription) (billing.Subscription, error) {
	metadata := sub.Metadata
	if metadata == nil {
		metadata = map[string]any{}
	}
	created, err := scanSubscription(tx.QueryRow(ctx, `
		INSERT INTO subscriptions (id, merchant_id, mode, customer_id, billing_key_id, amount, tax_free, order_name,
			interval_unit, interval_count, anchor, timezone, status, metadata)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		RETURNING `+returningSubscription,
		sub.ID, sub.MerchantID, sub.Mode, sub.CustomerID, sub.BillingKeyID, sub.Amount, sub.TaxFree, sub.OrderName,
		sub.Interval, sub.IntervalCount, sub.Anchor, sub.Timezone, sub.Status, metadata))
	if err != nil {
		return sub, fmt.Errorf("create subscription: %w", err)
	}
	return created, nil
}

// SaveSubscription writes a subscription's mutable state back.
func (s *Store) SaveSubscription(ctx context.Context, tx pgx.Tx, sub billing.Subscription) (billing.Subscription, error) {
	saved, err := scanSubscription(tx.QueryRow(ctx, `
		UPDATE subscriptions SET billing_key_id = $2, amount = $3, tax_free = $4, order_name = $5, status = $6,
			current_period = $7, current_period_start = $8, current_period_end = $9, cancel_at_period_end = $10,
			retry_count = $11, next_retry_at = $12, metadata = $13, canceled_at = $14, paused_at = $15,
			status_reason = $16, updated_at = now()
		WHERE id = $1 RETURNING `+returningSubscription,
		sub.ID, sub.BillingKeyID, sub.Amount, sub.TaxFree, sub.OrderName, sub.Status, sub.CurrentPeriod,
		sub.CurrentPeriodStart, sub.CurrentPeriodEnd, sub.CancelAtPeriodEnd, sub.RetryCount, sub.NextRetryAt,
		sub.Metadata, sub.CanceledAt, sub.PausedAt, sub.StatusReason))
	if err != nil {
		return sub, fmt.Errorf("save subscription %s: %w", sub.ID, err)
	}
	return saved, nil
}

// LockSubscription reads a subscription and locks it for the transaction:
// every change to one goes through this lock, so a webhook, a retry and a
// merchant's PATCH never interleave.
func (s *Store) LockSubscription(ctx context.Context, tx pgx.Tx, id string) (billing.Subscription, error) {
	sub, err := scanSubscription(tx.QueryRow(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions s WHERE id = $1 FOR UPDATE`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return sub, billing.NotFound("subscription", id)
	}
	if err != nil {
		return sub, fmt.Errorf("lock subscription %s: %w", id, err)
	}
	return sub, nil
}

// GetSubscription reads a subscription of a merchant and mode.
func (s *Store) GetSubscription(ctx context.Context, merchantID string, mode billing.Mode, id string) (billing.Subscription, error) {
	sub, err := scanSubscription(s.pool.QueryRow(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions s
		WHERE id = $1 AND merchant_id = $2 AND mode = $3`, id, merchantID, mode))
	if errors.Is(err, pgx.ErrNoRows) {
		return sub, billing.NotFound("subscription", id)
	}
	if err != nil {
		return sub, fmt.Errorf("get subscription %s: %w", id, err)
	}
	return sub, nil
}

// SubscriptionByID reads a subscription whoever owns it (jobs).
func (s *Store) SubscriptionByID(ctx context.Context, id string) (billing.Subscription, error) {
	sub, err := scanSubscription(s.pool.QueryRow(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions s WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return sub, billing.NotFound("subscription", id)
	}
	if err != nil {
		return sub, fmt.Errorf("get subscription %s: %w", id, err)
	}
	return sub, nil
}

// SubscriptionFilter selects a page of subscriptions.
type SubscriptionFilter struct {
	Page
	CustomerID string
	Status     billing.SubscriptionStatus
}

// ListSubscriptions returns a page of subscriptions, newest first.
func (s *Store) ListSubscriptions(ctx context.Context, merchantID string, mode billing.Mode, f SubscriptionFilter) ([]billing.Subscription, bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions s
		WHERE merchant_id = $1 AND mode = $2 AND ($3 = '' OR id < $3) AND ($4 = '' OR customer_id = $4)
		  AND ($5 = '' OR status = $5)
		ORDER BY id DESC LIMIT $6`, merchantID, mode, f.StartingAfter, f.CustomerID, string(f.Status), f.Limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("list subscriptions: %w", err)
	}
	list, err := collectSubscriptions(rows)
	if err != nil {
		return nil, false, err
	}
	return trimPage(list, f.Page)
}

// SubscriptionsToRenew lists active subscriptions of a mode whose current
// period is paid (or that were never billed) and whose next period has no
// payment yet: normally the renewal job bills the next period right after
// the payment; this is the catch-up.
func (s *Store) SubscriptionsToRenew(ctx context.Context, mode billing.Mode, limit int) ([]billing.Subscription, error) {
	return s.querySubscriptions(ctx, `WHERE s.mode = $1 AND s.status = 'active' AND NOT s.cancel_at_period_end
		AND (s.current_period = -1 OR EXISTS (SELECT 1 FROM payments p WHERE p.subscription_id = s.id
			AND p.period = s.current_period AND p.status IN ('paid', 'partially_refunded', 'refunded')))
		AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.subscription_id = s.id AND p.period = s.current_period + 1
			AND p.status NOT IN ('failed', 'canceled'))
		-- a PG that refused to register the next period is asked again
		-- hourly, not on every tick
		AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.subscription_id = s.id AND p.period = s.current_period + 1
			AND p.updated_at > now() - interval '1 hour')
		ORDER BY s.current_period_end LIMIT $2`, mode, limit)
}

// SubscriptionsToRetry lists past-due subscriptions whose next retry is due.
func (s *Store) SubscriptionsToRetry(ctx context.Context, mode billing.Mode, now time.Time, limit int) ([]billing.Subscription, error) {
	return s.querySubscriptions(ctx, `WHERE s.mode = $1 AND s.status = 'past_due' AND s.next_retry_at <= $2
		ORDER BY s.next_retry_at LIMIT $3`, mode, now, limit)
}

// SubscriptionsEndingPeriod lists subscriptions set to cancel at period end
// whose period has ended.
func (s *Store) SubscriptionsEndingPeriod(ctx context.Context, mode billing.Mode, now time.Time, limit int) ([]billing.Subscription, error) {
	return s.querySubscriptions(ctx, `WHERE s.mode = $1 AND s.cancel_at_period_end AND s.status IN ('active', 'past_due', 'unpaid')
		AND s.current_period_end <= $2 ORDER BY s.current_period_end LIMIT $3`, mode, now, limit)
}

// NextSubscriptionDue is the earliest retry or period end of a mode after
// t, for the test clock's stepping.
func (s *Store) NextSubscriptionDue(ctx context.Context, mode billing.Mode, after time.Time) (*time.Time, error) {
	var next *time.Time
	err := s.pool.QueryRow(ctx, `SELECT min(t) FROM (
		SELECT next_retry_at AS t FROM subscriptions WHERE mode = $1 AND status = 'past_due' AND next_retry_at > $2
		UNION ALL
		SELECT current_period_end FROM subscriptions WHERE mode = $1 AND cancel_at_period_end
			AND status IN ('active', 'past_due', 'unpaid') AND current_period_end > $2) due`, mode, after).Scan(&next)
	if err != nil {
		return nil, fmt.Errorf("next subscription due: %w", err)
	}
	return next, nil
}

func (s *Store) querySubscriptions(ctx context.Context, where string, args ...any) ([]billing.Subscription, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions s `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("query subscriptions: %w", err)
	}
	return collectSubscriptions(rows)
}

func collectSubscriptions(rows pgx.Rows) ([]billing.Subscription, error) {
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (billing.Subscription, error) { return scanSubscription(row) })
	if err != nil {
		return nil, fmt.Errorf("read subscriptions: %w", err)
	}
	return list, nil
}

// MerchantSettings reads a merchant's settings (dunning policy, …).
func (s *Store) MerchantSettings(ctx context.Context, q pgx.Tx, merchantID string) (map[string]any, error) {
	var settings map[string]any
	err := q.QueryRow(ctx, `SELECT settings FROM merchants WHERE id = $1`, merchantID).Scan(&settings)
	if err != nil {
		return nil, fmt.Errorf("merchant settings of %s: %w", merchantID, err)
	}
	return settings, nil
}

// SetMerchantSettings replaces a merchant's settings.
func (s *Store) SetMerchantSettings(ctx context.Context, merchantID string, settings map[string]any) error {
	return s.audited(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE merchants SET settings = $2 WHERE id = $1`, merchantID, settings)
		if err != nil {
			return fmt.Errorf("set merchant settings: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return billing.NotFound("merchant", merchantID)
		}
		return nil
	}, func() audit.Change {
		return audit.Change{MerchantID: merchantID, Action: "merchant.settings_updated", ObjectType: "merchant", ObjectID: merchantID}
	})
}
