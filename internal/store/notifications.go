package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/billing"
)

// Notification is a PG webhook as received: a hint to look something up.
type Notification struct {
	ID                string
	ProviderAccountID string
	Provider          string
	DedupeKey         string
	Payload           map[string]any
	RemoteAddr        string
	ReceivedCount     int
	Outcome           *string
	Detail            *string
	PaymentID         *string
}

// RecordNotification stores a notification, or counts a repeat of one
// already stored (same account and dedupe key). It reports whether it is
// new, so only the first delivery schedules work. A notification with its
// Outcome set is stored finished (processed now). A nil tx records it on
// its own.
func (s *Store) RecordNotification(ctx context.Context, tx pgx.Tx, n Notification) (Notification, bool, error) {
	var q querier = s.pool
	if tx != nil {
		q = tx
	}
	var inserted bool
	err := q.QueryRow(ctx, `
		INSERT INTO pg_notifications (id, provider_account_id, provider, dedupe_key, payload, remote_addr,
			outcome, detail, payment_id, processed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $7::text IS NOT NULL THEN now() END)
		ON CONFLICT (provider_account_id, dedupe_key)
		DO UPDATE SET received_count = pg_notifications.received_count + 1
		RETURNING id, received_count, xmax = 0`,
		n.ID, n.ProviderAccountID, n.Provider, n.DedupeKey, n.Payload, n.RemoteAddr, n.Outcome, n.Detail, n.PaymentID).
		Scan(&n.ID, &n.ReceivedCount, &inserted)
	if err != nil {
		return n, false, fmt.Errorf("record notification: %w", err)
	}
	return n, inserted, nil
}

// GetNotification reads one notification.
func (s *Store) GetNotification(ctx context.Context, id string) (Notification, error) {
	var n Notification
	err := s.pool.QueryRow(ctx, `SELECT id, provider_account_id, provider, dedupe_key, payload, remote_addr,
			received_count, outcome, detail, payment_id
		FROM pg_notifications WHERE id = $1`, id).
		Scan(&n.ID, &n.ProviderAccountID, &n.Provider, &n.DedupeKey, &n.Payload, &n.RemoteAddr,
			&n.ReceivedCount, &n.Outcome, &n.Detail, &n.PaymentID)
	if errors.Is(err, pgx.ErrNoRows) {
		return n, billing.NotFound("notification", id)
	}
	if err != nil {
		return n, fmt.Errorf("get notification %s: %w", id, err)
	}
	return n, nil
}

// FinishNotification records what a notification led to: applied,
// no_change, or a flag (unknown_payment, amount_mismatch, …) for an
// operator to look at. A nil tx records it on its own.
func (s *Store) FinishNotification(ctx context.Context, tx pgx.Tx, id, outcome, detail, paymentID string) error {
	var q querier = s.pool
	if tx != nil {
		q = tx
	}
	_, err := q.Exec(ctx, `UPDATE pg_notifications SET outcome = $2, detail = nullif($3, ''),
		payment_id = nullif($4, ''), processed_at = now() WHERE id = $1`, id, outcome, detail, paymentID)
	if err != nil {
		return fmt.Errorf("finish notification %s: %w", id, err)
	}
	return nil
}

// NotificationsByAccount lists an account's notifications, oldest first,
// for tests and operators.
func (s *Store) NotificationsByAccount(ctx context.Context, accountID string) ([]Notification, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, provider_account_id, provider, dedupe_key, payload, remote_addr,
			received_count, outcome, detail, payment_id
		FROM pg_notifications WHERE provider_account_id = $1 ORDER BY id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("notifications of %s: %w", accountID, err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Notification, error) {
		var n Notification
		err := row.Scan(&n.ID, &n.ProviderAccountID, &n.Provider, &n.DedupeKey, &n.Payload, &n.RemoteAddr,
			&n.ReceivedCount, &n.Outcome, &n.Detail, &n.PaymentID)
		return n, err
	})
}

// PendingNotifications lists notifications not yet processed, of accounts
// in one mode, oldest first.
func (s *Store) PendingNotifications(ctx context.Context, mode billing.Mode, limit int) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT n.id FROM pg_notifications n JOIN provider_accounts a ON a.id = n.provider_account_id
		WHERE n.outcome IS NULL AND a.mode = $1 ORDER BY n.id LIMIT $2`, mode, limit)
	if err != nil {
		return nil, fmt.Errorf("pending notifications: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
