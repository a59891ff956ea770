package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/billing"
)

// InsertEvent writes an event in the transaction that made the change it
// records: the outbox, so no change goes unannounced and no announcement is
// of a change that rolled back.
func (s *Store) InsertEvent(ctx context.Context, tx pgx.Tx, e billing.Event) error {
	_, err := tx.Exec(ctx, `INSERT INTO events (id, merchant_id, mode, type, object_type, object_id, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, e.ID, e.MerchantID, e.Mode, e.Type, e.ObjectType, e.ObjectID, e.Data)
	if err != nil {
		return fmt.Errorf("insert event %s: %w", e.Type, err)
	}
	return nil
}

// EventsFor lists the events of one object, oldest first.
func (s *Store) EventsFor(ctx context.Context, merchantID string, mode billing.Mode, objectID string) ([]billing.Event, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, merchant_id, mode, type, object_type, object_id, data, created_at
		FROM events WHERE object_id = $1 AND merchant_id = $2 AND mode = $3 ORDER BY id`, objectID, merchantID, mode)
	if err != nil {
		return nil, fmt.Errorf("events of %s: %w", objectID, err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (billing.Event, error) {
		var e billing.Event
		var data map[string]any
		err := row.Scan(&e.ID, &e.MerchantID, &e.Mode, &e.Type, &e.ObjectType, &e.ObjectID, &data, &e.CreatedAt)
		e.Data = data
		return e, err
	})
}
