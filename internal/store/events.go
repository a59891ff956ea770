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

// InsertEvent writes an event in the transaction that made the change it
// records: the outbox, so no change goes unannounced and no announcement is
// of a change that rolled back.
//
// The insert and the fan-out's endpoint lookup go to the server together,
// one round trip; deliveries, when an endpoint matches, are one more.
func (s *Store) InsertEvent(ctx context.Context, tx pgx.Tx, e billing.Event) error {
	return s.InsertEventAnswering(ctx, tx, e, nil)
}

// InsertEventAnswering is InsertEvent that also stores the answer to the
// request that made the change (CompleteIdempotencyKeyTx), in the same
// round trip. A nil answer stores nothing.
func (s *Store) InsertEventAnswering(ctx context.Context, tx pgx.Tx, e billing.Event, a *Answer) error {
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO events (id, merchant_id, mode, type, object_type, object_id, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, e.ID, e.MerchantID, e.Mode, e.Type, e.ObjectType, e.ObjectID, e.Data)
	b.Queue(matchingEndpoints, e.MerchantID, e.Mode, e.Type)
	if a != nil {
		a.queue(b)
	}
	// The actor's audit row, when there is one, rides in the same batch.
	audited := queueAudit(ctx, b, audit.Change{MerchantID: e.MerchantID, Mode: string(e.Mode), Action: e.Type,
		ObjectType: e.ObjectType, ObjectID: e.ObjectID, Summary: e.Data})
	br := tx.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		br.Close()
		return fmt.Errorf("insert event %s: %w", e.Type, err)
	}
	rows, err := br.Query()
	var endpoints []string
	if err == nil {
		endpoints, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil {
		br.Close()
		return fmt.Errorf("endpoints for event %s: %w", e.ID, err)
	}
	if a != nil {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return fmt.Errorf("complete idempotency key: %w", err)
		}
	}
	if audited {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return fmt.Errorf("insert audit event %s: %w", e.Type, err)
		}
	}
	if err := br.Close(); err != nil {
		return fmt.Errorf("insert event %s: %w", e.ID, err)
	}
	// The webhook fan-out joins the same transaction (webhook_deliveries.go).
	return s.createDeliveries(ctx, tx, e, endpoints)
}

// EventsFor lists the events of one object, oldest first.
func (s *Store) EventsFor(ctx context.Context, merchantID string, mode billing.Mode, objectID string) ([]billing.Event, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+eventColumns+`
		FROM events WHERE object_id = $1 AND merchant_id = $2 AND mode = $3 ORDER BY id`, objectID, merchantID, mode)
	if err != nil {
		return nil, fmt.Errorf("events of %s: %w", objectID, err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (billing.Event, error) { return scanEvent(row) })
}

const eventColumns = `id, merchant_id, mode, type, object_type, object_id, data, created_at`

func scanEvent(row pgx.Row) (billing.Event, error) {
	var e billing.Event
	var data map[string]any
	err := row.Scan(&e.ID, &e.MerchantID, &e.Mode, &e.Type, &e.ObjectType, &e.ObjectID, &data, &e.CreatedAt)
	e.Data = data
	return e, err
}

// GetEvent reads one event of a merchant and mode.
func (s *Store) GetEvent(ctx context.Context, merchantID string, mode billing.Mode, id string) (billing.Event, error) {
	return getEvent(ctx, s.pool, merchantID, mode, id)
}

func getEvent(ctx context.Context, q querier, merchantID string, mode billing.Mode, id string) (billing.Event, error) {
	e, err := scanEvent(q.QueryRow(ctx, `SELECT `+eventColumns+` FROM events WHERE id = $1 AND merchant_id = $2 AND mode = $3`,
		id, merchantID, mode))
	if errors.Is(err, pgx.ErrNoRows) {
		return e, billing.NotFound("event", id)
	}
	if err != nil {
		return e, fmt.Errorf("get event %s: %w", id, err)
	}
	return e, nil
}

// EventByID reads an event by id alone, for the delivery worker.
func (s *Store) EventByID(ctx context.Context, id string) (billing.Event, error) {
	e, err := scanEvent(s.pool.QueryRow(ctx, `SELECT `+eventColumns+` FROM events WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return e, billing.NotFound("event", id)
	}
	if err != nil {
		return e, fmt.Errorf("event %s: %w", id, err)
	}
	return e, nil
}

// EventFilter selects a page of events.
type EventFilter struct {
	Page
	Type       string // exact type, or "<object>.*"
	ObjectID   string // events of one object
	ObjectType string
}

// ListEvents returns a page of a merchant's events, newest first.
func (s *Store) ListEvents(ctx context.Context, merchantID string, mode billing.Mode, f EventFilter) ([]billing.Event, bool, error) {
	typ, prefix := f.Type, ""
	if object, ok := strings.CutSuffix(f.Type, ".*"); ok {
		typ, prefix = "", object+"."
	}
	rows, err := s.pool.Query(ctx, `SELECT `+eventColumns+` FROM events
		WHERE merchant_id = $1 AND mode = $2
		  AND ($3 = '' OR id < $3)
		  AND ($4 = '' OR type = $4)
		  AND ($5 = '' OR starts_with(type, $5))
		  AND ($6 = '' OR object_id = $6)
		  AND ($7 = '' OR object_type = $7)
		ORDER BY id DESC LIMIT $8`,
		merchantID, mode, f.StartingAfter, typ, prefix, f.ObjectID, f.ObjectType, f.Limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("list events: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (billing.Event, error) { return scanEvent(row) })
	if err != nil {
		return nil, false, fmt.Errorf("list events: %w", err)
	}
	return trimPage(list, f.Page)
}

// PruneEvents deletes events created before olderThan, with their
// deliveries and attempts, in batches; an event with a pending delivery
// active after busySince (still inside its retry schedule) is kept.
func (s *Store) PruneEvents(ctx context.Context, olderThan, busySince time.Time, batch int) (int64, error) {
	var total int64
	for {
		tag, err := s.pool.Exec(ctx, `
			DELETE FROM events WHERE id IN (
				SELECT e.id FROM events e
				WHERE e.created_at < $1
				  AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d
					WHERE d.event_id = e.id AND d.state = 'pending' AND d.updated_at > $2)
				ORDER BY e.created_at LIMIT $3
				FOR UPDATE SKIP LOCKED)`, olderThan, busySince, batch)
		if err != nil {
			return total, fmt.Errorf("prune events: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < int64(batch) {
			return total, nil
		}
	}
}
