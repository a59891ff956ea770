package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// MismatchRecorded reports whether a payment.pg_mismatch event about the
// PG's payment providerPaymentID was already written for paymentID:
// reconciliation retries for days, and one event per foreign answer is
// what an operator needs.
func (s *Store) MismatchRecorded(ctx context.Context, tx pgx.Tx, paymentID, providerPaymentID string) (bool, error) {
	var found bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM events WHERE object_id = $1 AND type = 'payment.pg_mismatch'
		AND data->'pg_mismatch'->>'provider_payment_id' = $2)`, paymentID, providerPaymentID).Scan(&found)
	if err != nil {
		return false, fmt.Errorf("mismatch events of %s: %w", paymentID, err)
	}
	return found, nil
}
