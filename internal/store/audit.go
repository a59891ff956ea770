package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/audit"
	"github.com/billingd/billingd/internal/billing"
)

// PrefixAudit starts every audit row's id.
const PrefixAudit = "aud_"

const insertAudit = `INSERT INTO audit_events
	(id, actor_type, actor_id, source_ip, request_id, merchant_id, mode, action, object_type, object_id, summary)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`

func auditArgs(a audit.Actor, c audit.Change) []any {
	return []any{billing.NewID(PrefixAudit), a.Type, a.ID, a.SourceIP, a.RequestID, c.MerchantID, c.Mode,
		c.Action, c.ObjectType, c.ObjectID, audit.Summarize(c.Summary)}
}

// InsertAudit records c in tx, the transaction of the change, when ctx
// carries an actor; without one (jobs, PG notifications) it does nothing.
func (s *Store) InsertAudit(ctx context.Context, tx pgx.Tx, c audit.Change) error {
	return insertAuditQ(ctx, tx, c)
}

func insertAuditQ(ctx context.Context, q querier, c audit.Change) error {
	a, ok := audit.ActorFrom(ctx)
	if !ok {
		return nil
	}
	if _, err := q.Exec(ctx, insertAudit, auditArgs(a, c)...); err != nil {
		return fmt.Errorf("insert audit event %s: %w", c.Action, err)
	}
	return nil
}

// queueAudit adds the audit row of c to a batch that runs in the change's
// transaction, costing no round trip of its own. It reports whether it
// queued anything.
func queueAudit(ctx context.Context, b *pgx.Batch, c audit.Change) bool {
	a, ok := audit.ActorFrom(ctx)
	if !ok {
		return false
	}
	b.Queue(insertAudit, auditArgs(a, c)...)
	return true
}

// audited runs fn in a transaction and records change (read after fn, so it
// can use what fn learned) in the same one: both commit or neither does.
func (s *Store) audited(ctx context.Context, fn func(tx pgx.Tx) error, change func() audit.Change) error {
	return s.WithTx(ctx, func(tx pgx.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return insertAuditQ(ctx, tx, change())
	})
}

// AuditFilter selects audit rows; empty fields match everything.
type AuditFilter struct {
	Page
	MerchantID string
	ObjectID   string
	ActorID    string
	Action     string
	Since      *time.Time
	Until      *time.Time
}

// ListAuditEvents returns a page of audit rows, newest first.
func (s *Store) ListAuditEvents(ctx context.Context, f AuditFilter) ([]audit.Event, bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, created_at, actor_type, actor_id, source_ip, request_id,
			merchant_id, mode, action, object_type, object_id, summary
		FROM audit_events
		WHERE ($1 = '' OR id < $1) AND ($2 = '' OR merchant_id = $2) AND ($3 = '' OR object_id = $3)
		  AND ($4 = '' OR actor_id = $4) AND ($5 = '' OR action = $5)
		  AND ($6::timestamptz IS NULL OR created_at >= $6) AND ($7::timestamptz IS NULL OR created_at < $7)
		ORDER BY id DESC LIMIT $8`,
		f.StartingAfter, f.MerchantID, f.ObjectID, f.ActorID, f.Action, f.Since, f.Until, f.Limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("list audit events: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (audit.Event, error) {
		var e audit.Event
		err := row.Scan(&e.ID, &e.CreatedAt, &e.ActorType, &e.ActorID, &e.SourceIP, &e.RequestID,
			&e.MerchantID, &e.Mode, &e.Action, &e.ObjectType, &e.ObjectID, &e.Summary)
		return e, err
	})
	if err != nil {
		return nil, false, fmt.Errorf("list audit events: %w", err)
	}
	return trimPage(list, f.Page)
}

// PruneAuditEvents deletes up to limit audit rows older than before: the
// retention, the one way rows leave the log.
func (s *Store) PruneAuditEvents(ctx context.Context, before time.Time, limit int) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM audit_events WHERE id IN (
		SELECT id FROM audit_events WHERE created_at < $1 ORDER BY id LIMIT $2)`, before, limit)
	if err != nil {
		return 0, fmt.Errorf("prune audit events: %w", err)
	}
	return tag.RowsAffected(), nil
}
