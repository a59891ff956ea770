package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/audit"
	"github.com/billingd/billingd/internal/billing"
)

// Webhook deliveries: the fan-out of the events outbox. InsertEvent
// creates one pending delivery per matching endpoint in the event's own
// transaction, and hands their ids to the DeliveryEnqueuer in that same
// transaction, which inserts one River job each. So a delivery exists
// exactly when its event committed, and its job exactly when it did.
// Without an enqueuer (tools, store tests) deliveries are created with no
// job; the dispatch sweep (ClaimUnqueuedDeliveries) enqueues them later.

// DeliveryEnqueuer enqueues the jobs of deliveries inside tx.
type DeliveryEnqueuer func(ctx context.Context, tx pgx.Tx, deliveries []DeliveryRef) error

// DeliveryRef names one run of a delivery: its job is unique per
// (ID, Run), and a resend starts a new run.
type DeliveryRef struct {
	ID  string
	Run int
}

func refsOf(ids []string) []DeliveryRef {
	refs := make([]DeliveryRef, len(ids))
	for i, id := range ids {
		refs[i] = DeliveryRef{ID: id}
	}
	return refs
}

// SetDeliveryEnqueuer installs the enqueuer. It is set once at wiring,
// before the store serves requests (the job client is built after the
// store, because its workers use the store).
func (s *Store) SetDeliveryEnqueuer(fn DeliveryEnqueuer) { s.enqueue = fn }

// matchingEndpoints is the SQL form of billing.EventMatches.
const matchingEndpoints = `SELECT id FROM webhook_endpoints
	WHERE merchant_id = $1 AND mode = $2 AND deleted_at IS NULL AND status = 'enabled'
	  AND ('*' = ANY (enabled_events) OR $3 = ANY (enabled_events) OR split_part($3, '.', 1) || '.*' = ANY (enabled_events))
	ORDER BY id`

// createDeliveries creates the deliveries of a new event to the endpoints
// that match it (matchingEndpoints), in the event's transaction.
func (s *Store) createDeliveries(ctx context.Context, tx pgx.Tx, e billing.Event, endpoints []string) error {
	if len(endpoints) == 0 {
		return nil
	}
	ids := make([]string, len(endpoints))
	for i := range endpoints {
		ids[i] = billing.NewID(billing.PrefixWebhookDelivery)
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO webhook_deliveries (id, event_id, endpoint_id, merchant_id, mode, next_attempt_at, enqueued_at)
		SELECT d.id, $1, d.endpoint_id, $2, $3, now(), CASE WHEN $6 THEN now() END
		FROM unnest($4::text[], $5::text[]) AS d (id, endpoint_id)`,
		e.ID, e.MerchantID, e.Mode, ids, endpoints, s.enqueue != nil)
	if err != nil {
		return fmt.Errorf("deliveries of event %s: %w", e.ID, err)
	}
	if s.enqueue != nil {
		return s.enqueue(ctx, tx, refsOf(ids))
	}
	return nil
}

// DispatchPendingDeliveries enqueues up to limit pending deliveries that
// have no job (created without an enqueuer) or whose next attempt is
// older than staleBefore (their job was lost: River discards a job whose
// last attempt failed on a database error), marking them in the same
// transaction, and returns how many it enqueued. A delivery whose job is
// alive but late is skipped by River's uniqueness. Rows are claimed with
// SKIP LOCKED, so concurrent sweeps do not collide.
func (s *Store) DispatchPendingDeliveries(ctx context.Context, staleBefore time.Time, limit int, enqueue DeliveryEnqueuer) (int, error) {
	var n int
	err := s.WithTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, run FROM webhook_deliveries
			WHERE state = 'pending' AND (enqueued_at IS NULL OR next_attempt_at < $1)
			ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED`, staleBefore, limit)
		if err != nil {
			return err
		}
		refs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[DeliveryRef])
		if err != nil || len(refs) == 0 {
			return err
		}
		if err := enqueue(ctx, tx, refs); err != nil {
			return err
		}
		ids := make([]string, len(refs))
		for i, r := range refs {
			ids[i] = r.ID
		}
		// Pushing next_attempt_at forward keeps the next sweep from
		// taking a late-but-alive delivery again at once.
		if _, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET enqueued_at = now(),
			next_attempt_at = greatest(next_attempt_at, now()) WHERE id = ANY ($1)`, ids); err != nil {
			return err
		}
		n = len(ids)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("dispatch pending deliveries: %w", err)
	}
	return n, nil
}

const webhookDeliveryColumns = `id, event_id, endpoint_id, merchant_id, mode, state, attempt_count, run, next_attempt_at,
	last_status_code, last_error, delivered_at, created_at, updated_at`

func scanWebhookDelivery(row pgx.Row) (billing.WebhookDelivery, error) {
	var d billing.WebhookDelivery
	err := row.Scan(&d.ID, &d.EventID, &d.EndpointID, &d.MerchantID, &d.Mode, &d.State, &d.AttemptCount, &d.Run,
		&d.NextAttemptAt, &d.LastStatusCode, &d.LastError, &d.DeliveredAt, &d.CreatedAt, &d.UpdatedAt)
	return d, err
}

// GetWebhookDelivery reads a delivery by id alone, for the worker. A
// delivery whose event was pruned is not found.
func (s *Store) GetWebhookDelivery(ctx context.Context, id string) (billing.WebhookDelivery, error) {
	d, err := scanWebhookDelivery(s.pool.QueryRow(ctx, `SELECT `+webhookDeliveryColumns+` FROM webhook_deliveries WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return d, billing.NotFound("webhook_delivery", id)
	}
	if err != nil {
		return d, fmt.Errorf("get delivery %s: %w", id, err)
	}
	return d, nil
}

// AttemptResult is how one attempt left its delivery.
type AttemptResult struct {
	Attempt billing.WebhookAttempt // its Attempt number is assigned here
	// State is the delivery's state afterwards: pending (retry at
	// NextAttemptAt), delivered or failed.
	State         string
	NextAttemptAt *time.Time
	// DisableReason, when set, disables the endpoint in the same
	// transaction (a 410 Gone).
	DisableReason string
}

// RecordWebhookAttempt stores an attempt and moves its delivery on, in one
// transaction. Only a pending delivery changes state: an attempt that
// raced with a cancellation is recorded, but does not revive it.
func (s *Store) RecordWebhookAttempt(ctx context.Context, deliveryID string, r AttemptResult) (billing.WebhookAttempt, error) {
	a := r.Attempt
	err := s.WithTx(ctx, func(tx pgx.Tx) error {
		var endpointID string
		err := tx.QueryRow(ctx, `
			UPDATE webhook_deliveries SET attempt_count = attempt_count + 1, last_status_code = $2, last_error = $3,
				state = CASE WHEN state = 'pending' THEN $4 ELSE state END,
				next_attempt_at = CASE WHEN state = 'pending' AND $4 = 'pending' THEN $5::timestamptz END,
				delivered_at = CASE WHEN state = 'pending' AND $4 = 'delivered' THEN now() ELSE delivered_at END,
				updated_at = now()
			WHERE id = $1
			RETURNING attempt_count, endpoint_id`,
			deliveryID, a.StatusCode, a.Error, r.State, r.NextAttemptAt).Scan(&a.Attempt, &endpointID)
		if err != nil {
			return fmt.Errorf("settle delivery %s: %w", deliveryID, err)
		}
		err = tx.QueryRow(ctx, `
			INSERT INTO webhook_attempts (id, delivery_id, attempt, url, outcome, status_code, error, response_body, duration_ms)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING created_at`,
			a.ID, deliveryID, a.Attempt, a.URL, a.Outcome, a.StatusCode, a.Error, a.ResponseBody, a.Duration.Milliseconds()).Scan(&a.CreatedAt)
		if err != nil {
			return fmt.Errorf("record attempt of %s: %w", deliveryID, err)
		}
		if r.DisableReason != "" {
			if _, err := tx.Exec(ctx, `UPDATE webhook_endpoints SET status = 'disabled', disabled_reason = $2, updated_at = now()
				WHERE id = $1 AND status = 'enabled'`, endpointID, r.DisableReason); err != nil {
				return fmt.Errorf("disable endpoint %s: %w", endpointID, err)
			}
		}
		return nil
	})
	a.DeliveryID = deliveryID
	return a, err
}

// CancelWebhookDelivery ends a pending delivery without sending it (its
// endpoint was disabled or deleted).
func (s *Store) CancelWebhookDelivery(ctx context.Context, id, reason string) error {
	_, err := s.pool.Exec(ctx, `UPDATE webhook_deliveries SET state = 'canceled', last_error = $2, next_attempt_at = NULL,
		updated_at = now() WHERE id = $1 AND state = 'pending'`, id, reason)
	if err != nil {
		return fmt.Errorf("cancel delivery %s: %w", id, err)
	}
	return nil
}

// DeliveriesOfEvent lists an event's deliveries, newest first, each with
// its attempts (oldest first).
func (s *Store) DeliveriesOfEvent(ctx context.Context, merchantID string, mode billing.Mode, eventID string) ([]billing.WebhookDelivery, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+webhookDeliveryColumns+` FROM webhook_deliveries
		WHERE event_id = $1 AND merchant_id = $2 AND mode = $3 ORDER BY id DESC`, eventID, merchantID, mode)
	if err != nil {
		return nil, fmt.Errorf("deliveries of %s: %w", eventID, err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (billing.WebhookDelivery, error) { return scanWebhookDelivery(row) })
	if err != nil || len(list) == 0 {
		return list, err
	}
	ids := make([]string, len(list))
	byID := map[string]*billing.WebhookDelivery{}
	for i := range list {
		ids[i] = list[i].ID
		byID[list[i].ID] = &list[i]
	}
	rows, err = s.pool.Query(ctx, `SELECT id, delivery_id, attempt, url, outcome, status_code, error, response_body, duration_ms, created_at
		FROM webhook_attempts WHERE delivery_id = ANY ($1) ORDER BY id`, ids)
	if err != nil {
		return nil, fmt.Errorf("attempts of %s: %w", eventID, err)
	}
	attempts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (billing.WebhookAttempt, error) {
		var a billing.WebhookAttempt
		var ms int64
		err := row.Scan(&a.ID, &a.DeliveryID, &a.Attempt, &a.URL, &a.Outcome, &a.StatusCode, &a.Error, &a.ResponseBody, &ms, &a.CreatedAt)
		a.Duration = time.Duration(ms) * time.Millisecond
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("attempts of %s: %w", eventID, err)
	}
	for _, a := range attempts {
		d := byID[a.DeliveryID]
		d.Attempts = append(d.Attempts, a)
	}
	return list, nil
}

// ResendEvent sends an event again: to endpointID when given (enabled, of
// the same merchant and mode, subscribed or not), else to every enabled
// endpoint subscribed to its type. Each target's delivery (the same
// webhook-id as before, so receivers can deduplicate) goes back to pending
// with a new job; one still pending is a conflict.
func (s *Store) ResendEvent(ctx context.Context, merchantID string, mode billing.Mode, eventID, endpointID string) ([]billing.WebhookDelivery, error) {
	var out []billing.WebhookDelivery
	err := s.WithTx(ctx, func(tx pgx.Tx) error {
		e, err := getEvent(ctx, tx, merchantID, mode, eventID)
		if err != nil {
			return err
		}
		var targets []string
		if endpointID != "" {
			ep, err := s.getWebhookEndpoint(ctx, tx, merchantID, mode, endpointID, "")
			if billing.ErrorCode(err) == billing.ENotFound {
				return billing.Invalid("webhook_endpoint_id", "no such webhook endpoint: %q", endpointID)
			}
			if err != nil {
				return err
			}
			if ep.Status != billing.EndpointEnabled {
				return &billing.Error{Code: billing.EConflict, Reason: "webhook_endpoint_disabled", Param: "webhook_endpoint_id",
					Message: fmt.Sprintf("webhook endpoint %s is disabled; enable it with PATCH first", ep.ID)}
			}
			targets = []string{ep.ID}
		} else {
			rows, err := tx.Query(ctx, matchingEndpoints, merchantID, mode, e.Type)
			if err != nil {
				return fmt.Errorf("endpoints for event %s: %w", eventID, err)
			}
			if targets, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
				return err
			}
			if len(targets) == 0 {
				return &billing.Error{Code: billing.EConflict, Reason: "no_webhook_endpoint",
					Message: fmt.Sprintf("no enabled webhook endpoint is subscribed to %s events; name one with webhook_endpoint_id", e.Type)}
			}
		}
		var refs []DeliveryRef
		for _, target := range targets {
			d, err := scanWebhookDelivery(tx.QueryRow(ctx, `
				INSERT INTO webhook_deliveries (id, event_id, endpoint_id, merchant_id, mode, next_attempt_at, enqueued_at)
				VALUES ($1, $2, $3, $4, $5, now(), CASE WHEN $6 THEN now() END)
				ON CONFLICT (event_id, endpoint_id) DO UPDATE SET state = 'pending', next_attempt_at = now(),
					run = webhook_deliveries.run + 1,
					enqueued_at = excluded.enqueued_at, updated_at = now()
					WHERE webhook_deliveries.state <> 'pending'
				RETURNING `+webhookDeliveryColumns,
				billing.NewID(billing.PrefixWebhookDelivery), eventID, target, merchantID, mode, s.enqueue != nil))
			if errors.Is(err, pgx.ErrNoRows) {
				return &billing.Error{Code: billing.EConflict, Reason: "delivery_pending",
					Message: fmt.Sprintf("the delivery of %s to %s is still pending; it will be retried on schedule", eventID, target)}
			}
			if err != nil {
				return fmt.Errorf("resend %s to %s: %w", eventID, target, err)
			}
			out = append(out, d)
			refs = append(refs, DeliveryRef{ID: d.ID, Run: d.Run})
		}
		if err := insertAuditQ(ctx, tx, audit.Change{MerchantID: merchantID, Mode: string(mode), Action: "event.resent",
			ObjectType: "event", ObjectID: eventID, Summary: map[string]any{"endpoint_id": endpointID}}); err != nil {
			return err
		}
		if s.enqueue != nil {
			return s.enqueue(ctx, tx, refs)
		}
		return nil
	})
	return out, err
}
