package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// OtherLivePeriodPayment reports whether a subscription period has a live
// payment (neither failed nor canceled) other than exceptID: a period
// billed again after its first attempt was recorded as failed.
func (s *Store) OtherLivePeriodPayment(ctx context.Context, tx pgx.Tx, subscriptionID string, periodStart time.Time, exceptID string) (bool, error) {
	var found bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM payments
		WHERE subscription_id = $1 AND period_start = $2 AND id <> $3 AND status NOT IN ('failed', 'canceled'))`,
		subscriptionID, periodStart, exceptID).Scan(&found)
	if err != nil {
		return false, fmt.Errorf("other payments of the period: %w", err)
	}
	return found, nil
}
