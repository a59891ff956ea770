package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// CountNotification counts one more notification about subject (a
// payment id, or "" for payments billingd does not know) for the account
// in the window starting at windowStart, and returns the window's count
// including it. The row lock it takes orders concurrent receipts of one
// subject, so counts are exact across replicas; it is held only until tx
// ends. Rolling tx back uncounts.
func (s *Store) CountNotification(ctx context.Context, tx pgx.Tx, accountID, subject string, windowStart time.Time) (int, error) {
	var n int
	err := tx.QueryRow(ctx, `
		INSERT INTO pg_notification_windows AS w (provider_account_id, subject, window_start, count)
		VALUES ($1, $2, $3, 1)
		ON CONFLICT (provider_account_id, subject, window_start) DO UPDATE SET count = w.count + 1
		RETURNING count`, accountID, subject, windowStart).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count notification of %s: %w", accountID, err)
	}
	return n, nil
}

// DeleteNotificationWindowsBefore deletes the counts of windows that
// started before t.
func (s *Store) DeleteNotificationWindowsBefore(ctx context.Context, t time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM pg_notification_windows WHERE window_start < $1`, t)
	if err != nil {
		return 0, fmt.Errorf("prune notification windows: %w", err)
	}
	return tag.RowsAffected(), nil
}
