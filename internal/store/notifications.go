package store

import (
	"context"
	"errors"
	"fmt"
	"time"

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
	// VerifyAfter, when set, defers the notification to the notification
	// sweep instead of a job of its own (see DeferredNotifications).
	VerifyAfter *time.Time
}

// RecordNotification stores a notification, or counts a repeat of one
// already stored (same account and dedupe key). It reports whether it is
// new, so only the first delivery schedules work. A notification with its
// Outcome set is stored finished (processed now); one with VerifyAfter
// set, deferred. A nil tx records it on its own.
func (s *Store) RecordNotification(ctx context.Context, tx pgx.Tx, n Notification) (Notification, bool, error) {
	var q querier = s.pool
	if tx != nil {
		q = tx
	}
	var inserted bool
	err := q.QueryRow(ctx, `
		INSERT INTO pg_notifications (id, provider_account_id, provider, dedupe_key, payload, remote_addr,
			outcome, detail, payment_id, processed_at, verify_after)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $7::text IS NOT NULL THEN now() END, $10)
		ON CONFLICT (provider_account_id, dedupe_key)
		DO UPDATE SET received_count = pg_notifications.received_count + 1
		RETURNING id, received_count, xmax = 0`,
		n.ID, n.ProviderAccountID, n.Provider, n.DedupeKey, n.Payload, n.RemoteAddr, n.Outcome, n.Detail, n.PaymentID, n.VerifyAfter).
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
			received_count, outcome, detail, payment_id, verify_after
		FROM pg_notifications WHERE id = $1`, id).
		Scan(&n.ID, &n.ProviderAccountID, &n.Provider, &n.DedupeKey, &n.Payload, &n.RemoteAddr,
			&n.ReceivedCount, &n.Outcome, &n.Detail, &n.PaymentID, &n.VerifyAfter)
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
		payment_id = nullif($4, ''), processed_at = now(), verify_after = NULL WHERE id = $1`, id, outcome, detail, paymentID)
	if err != nil {
		return fmt.Errorf("finish notification %s: %w", id, err)
	}
	return nil
}

// PaymentState is what deciding about a notification needs of the payment
// it names. The zero value means no such payment (of that account).
type PaymentState struct {
	ID                string
	Status            billing.PaymentStatus
	ProviderPaymentID *string
}

// NotificationTarget is what a notification's receipt reads: the account
// it came for, with its credentials left sealed (receipt needs only its
// provider and settings), and the state of the payment it names.
type NotificationTarget struct {
	Account billing.ProviderAccount
	Payment PaymentState
}

// FindNotificationTarget reads the live account accountID and, when
// orderID is not empty, the state of that account's payment orderID, in
// one round trip and without decrypting the account's credentials.
func (s *Store) FindNotificationTarget(ctx context.Context, accountID, orderID string) (NotificationTarget, error) {
	var (
		t    NotificationTarget
		acct accountRow
	)
	dest := append(acct.dest(), &t.Payment.ID, &t.Payment.Status, &t.Payment.ProviderPaymentID)
	err := s.pool.QueryRow(ctx, `
		SELECT `+providerAccountColumnsOfA+`,
			coalesce(p.id, ''), coalesce(p.status, ''), p.provider_payment_id
		FROM provider_accounts a
		LEFT JOIN payments p ON p.id = $2 AND p.provider_account_id = a.id
		WHERE a.id = $1 AND a.deleted_at IS NULL`, accountID, orderID).Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, billing.NotFound("provider account", accountID)
	}
	if err != nil {
		return t, fmt.Errorf("notification target %s: %w", accountID, err)
	}
	t.Account = acct.a // credentials stay sealed
	return t, nil
}

// DeferredNotification is a deferred notification with the state of the
// payment it names.
type DeferredNotification struct {
	Notification
	Payment PaymentState
}

// DeferredNotifications locks up to limit deferred notifications whose
// VerifyAfter has come, oldest first, skipping those another sweep holds.
func (s *Store) DeferredNotifications(ctx context.Context, tx pgx.Tx, due time.Time, limit int) ([]DeferredNotification, error) {
	rows, err := tx.Query(ctx, `
		SELECT n.id, n.provider_account_id, n.provider, n.payload, n.payment_id, n.verify_after,
			coalesce(p.id, ''), coalesce(p.status, ''), p.provider_payment_id
		FROM pg_notifications n LEFT JOIN payments p ON p.id = n.payment_id
		WHERE n.verify_after <= $1
		ORDER BY n.verify_after LIMIT $2
		FOR UPDATE OF n SKIP LOCKED`, due, limit)
	if err != nil {
		return nil, fmt.Errorf("deferred notifications: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (DeferredNotification, error) {
		var d DeferredNotification
		err := row.Scan(&d.ID, &d.ProviderAccountID, &d.Provider, &d.Payload, &d.PaymentID, &d.VerifyAfter,
			&d.Payment.ID, &d.Payment.Status, &d.Payment.ProviderPaymentID)
		return d, err
	})
}

// FinishNotifications records one outcome for many notifications at once,
// keeping the payment each names.
func (s *Store) FinishNotifications(ctx context.Context, tx pgx.Tx, ids []string, outcome, detail string) error {
	_, err := tx.Exec(ctx, `UPDATE pg_notifications SET outcome = $2, detail = nullif($3, ''),
		processed_at = now(), verify_after = NULL WHERE id = ANY($1) AND outcome IS NULL`, ids, outcome, detail)
	if err != nil {
		return fmt.Errorf("finish %d notifications: %w", len(ids), err)
	}
	return nil
}

// UndeferNotifications marks deferred notifications as handed to jobs.
func (s *Store) UndeferNotifications(ctx context.Context, tx pgx.Tx, ids []string) error {
	if _, err := tx.Exec(ctx, `UPDATE pg_notifications SET verify_after = NULL WHERE id = ANY($1)`, ids); err != nil {
		return fmt.Errorf("undefer %d notifications: %w", len(ids), err)
	}
	return nil
}

// NotificationsByAccount lists an account's notifications, oldest first,
// for tests and operators.
func (s *Store) NotificationsByAccount(ctx context.Context, accountID string) ([]Notification, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, provider_account_id, provider, dedupe_key, payload, remote_addr,
			received_count, outcome, detail, payment_id, verify_after
		FROM pg_notifications WHERE provider_account_id = $1 ORDER BY id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("notifications of %s: %w", accountID, err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Notification, error) {
		var n Notification
		err := row.Scan(&n.ID, &n.ProviderAccountID, &n.Provider, &n.DedupeKey, &n.Payload, &n.RemoteAddr,
			&n.ReceivedCount, &n.Outcome, &n.Detail, &n.PaymentID, &n.VerifyAfter)
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
