package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/audit"
	"github.com/billingd/billingd/internal/billing"
)

// Webhook endpoints. The signing secrets are credentials: sealed with the
// keyring and bound to the row id (and to their role, so the current and a
// previous secret cannot be swapped), opened only here, and handed out as
// billing.WebhookEndpoint fields the API shows once.

const webhookEndpointColumns = `id, merchant_id, mode, url, description, enabled_events, status, disabled_reason,
	secret_sealed, secret_key_id, previous_secrets_sealed, previous_secrets_key_id, created_at, updated_at`

func secretAAD(id, role string) []byte { return []byte("webhook_endpoint/" + id + "/" + role) }

// sealEndpointSecrets seals the current secret and the list of previous
// ones (nil when there are none).
func (s *Store) sealEndpointSecrets(e billing.WebhookEndpoint) (keyID string, sealed []byte, prevKeyID *string, prevSealed []byte, err error) {
	keyID, sealed = s.keys.Seal([]byte(e.Secret), secretAAD(e.ID, "current"))
	if len(e.PreviousSecrets) == 0 {
		return keyID, sealed, nil, nil, nil
	}
	plain, err := json.Marshal(e.PreviousSecrets)
	if err != nil {
		return "", nil, nil, nil, fmt.Errorf("encode previous secrets: %w", err)
	}
	pk, ps := s.keys.Seal(plain, secretAAD(e.ID, "previous"))
	return keyID, sealed, &pk, ps, nil
}

func (s *Store) scanWebhookEndpoint(row pgx.Row) (billing.WebhookEndpoint, error) {
	var (
		e                  billing.WebhookEndpoint
		sealed, prevSealed []byte
		keyID              string
		prevKeyID          *string
	)
	if err := row.Scan(&e.ID, &e.MerchantID, &e.Mode, &e.URL, &e.Description, &e.EnabledEvents, &e.Status,
		&e.DisabledReason, &sealed, &keyID, &prevSealed, &prevKeyID, &e.CreatedAt, &e.UpdatedAt); err != nil {
		return e, err
	}
	plain, err := s.keys.Open(keyID, sealed, secretAAD(e.ID, "current"))
	if err != nil {
		return e, fmt.Errorf("open signing secret of %s: %w", e.ID, err)
	}
	e.Secret = string(plain)
	if prevKeyID != nil && prevSealed != nil {
		plain, err := s.keys.Open(*prevKeyID, prevSealed, secretAAD(e.ID, "previous"))
		if err != nil {
			return e, fmt.Errorf("open previous secrets of %s: %w", e.ID, err)
		}
		if err := json.Unmarshal(plain, &e.PreviousSecrets); err != nil {
			return e, fmt.Errorf("decode previous secrets of %s: %w", e.ID, err)
		}
	}
	return e, nil
}

// CreateWebhookEndpoint stores a new endpoint with its secret sealed. A
// merchant has at most billing.MaxWebhookEndpoints live ones per mode.
func (s *Store) CreateWebhookEndpoint(ctx context.Context, e billing.WebhookEndpoint) (billing.WebhookEndpoint, error) {
	keyID, sealed, _, _, err := s.sealEndpointSecrets(e)
	if err != nil {
		return e, err
	}
	var created billing.WebhookEndpoint
	err = s.WithTx(ctx, func(tx pgx.Tx) error {
		// Serialise creations per merchant and mode so the limit holds
		// under concurrency.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('webhook_endpoints/' || $1 || '/' || $2))`, e.MerchantID, e.Mode); err != nil {
			return fmt.Errorf("lock endpoints: %w", err)
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM webhook_endpoints WHERE merchant_id = $1 AND mode = $2 AND deleted_at IS NULL`,
			e.MerchantID, e.Mode).Scan(&n); err != nil {
			return fmt.Errorf("count endpoints: %w", err)
		}
		if n >= billing.MaxWebhookEndpoints {
			return &billing.Error{Code: billing.EConflict, Reason: "webhook_endpoint_limit",
				Message: fmt.Sprintf("a merchant may have at most %d webhook endpoints per mode; delete one first", billing.MaxWebhookEndpoints)}
		}
		created, err = s.scanWebhookEndpoint(tx.QueryRow(ctx, `
			INSERT INTO webhook_endpoints (id, merchant_id, mode, url, description, enabled_events, status, secret_sealed, secret_key_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			RETURNING `+webhookEndpointColumns,
			e.ID, e.MerchantID, e.Mode, e.URL, e.Description, e.EnabledEvents, e.Status, sealed, keyID))
		if err != nil {
			return fmt.Errorf("create webhook endpoint: %w", err)
		}
		return insertAuditQ(ctx, tx, endpointChange("webhook_endpoint.created", created))
	})
	return created, err
}

// GetWebhookEndpoint reads one live endpoint of a merchant and mode.
func (s *Store) GetWebhookEndpoint(ctx context.Context, merchantID string, mode billing.Mode, id string) (billing.WebhookEndpoint, error) {
	return s.getWebhookEndpoint(ctx, s.pool, merchantID, mode, id, "")
}

func (s *Store) getWebhookEndpoint(ctx context.Context, q querier, merchantID string, mode billing.Mode, id, lock string) (billing.WebhookEndpoint, error) {
	e, err := s.scanWebhookEndpoint(q.QueryRow(ctx, `SELECT `+webhookEndpointColumns+` FROM webhook_endpoints
		WHERE id = $1 AND merchant_id = $2 AND mode = $3 AND deleted_at IS NULL `+lock, id, merchantID, mode))
	if errors.Is(err, pgx.ErrNoRows) {
		return e, billing.NotFound("webhook_endpoint", id)
	}
	if err != nil {
		return e, fmt.Errorf("get webhook endpoint %s: %w", id, err)
	}
	return e, nil
}

// WebhookEndpointForDelivery reads an endpoint by id alone, for the
// delivery worker; deleted reports an endpoint that is gone.
func (s *Store) WebhookEndpointForDelivery(ctx context.Context, id string) (e billing.WebhookEndpoint, deleted bool, err error) {
	var deletedAt *time.Time
	row := s.pool.QueryRow(ctx, `SELECT `+webhookEndpointColumns+`, deleted_at FROM webhook_endpoints WHERE id = $1`, id)
	e, err = s.scanWebhookEndpoint(scanWithExtra{row: row, extra: []any{&deletedAt}})
	if err != nil {
		return e, false, fmt.Errorf("endpoint %s of a delivery: %w", id, err)
	}
	return e, deletedAt != nil, nil
}

// scanWithExtra lets a scan function written for N columns read N+k.
type scanWithExtra struct {
	row   pgx.Row
	extra []any
}

func (s scanWithExtra) Scan(dest ...any) error { return s.row.Scan(append(dest, s.extra...)...) }

// ListWebhookEndpoints returns a page of live endpoints, newest first.
func (s *Store) ListWebhookEndpoints(ctx context.Context, merchantID string, mode billing.Mode, p Page) ([]billing.WebhookEndpoint, bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+webhookEndpointColumns+` FROM webhook_endpoints
		WHERE merchant_id = $1 AND mode = $2 AND deleted_at IS NULL AND ($3 = '' OR id < $3)
		ORDER BY id DESC LIMIT $4`, merchantID, mode, p.StartingAfter, p.Limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("list webhook endpoints: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (billing.WebhookEndpoint, error) { return s.scanWebhookEndpoint(row) })
	if err != nil {
		return nil, false, fmt.Errorf("list webhook endpoints: %w", err)
	}
	return trimPage(list, p)
}

// UpdateWebhookEndpoint applies change to a locked endpoint and writes it
// back, secrets included, or changes nothing when change fails. Updates
// and rotations go through here, so two rotations cannot lose a secret.
func (s *Store) UpdateWebhookEndpoint(ctx context.Context, merchantID string, mode billing.Mode, id string,
	change func(*billing.WebhookEndpoint) error) (billing.WebhookEndpoint, error) {
	var updated billing.WebhookEndpoint
	err := s.WithTx(ctx, func(tx pgx.Tx) error {
		e, err := s.getWebhookEndpoint(ctx, tx, merchantID, mode, id, "FOR UPDATE")
		if err != nil {
			return err
		}
		if err := change(&e); err != nil {
			return err
		}
		keyID, sealed, prevKeyID, prevSealed, err := s.sealEndpointSecrets(e)
		if err != nil {
			return err
		}
		var prevExpire *time.Time
		for _, p := range e.PreviousSecrets {
			if prevExpire == nil || p.ExpiresAt.After(*prevExpire) {
				t := p.ExpiresAt
				prevExpire = &t
			}
		}
		updated, err = s.scanWebhookEndpoint(tx.QueryRow(ctx, `
			UPDATE webhook_endpoints SET url = $2, description = $3, enabled_events = $4, status = $5, disabled_reason = $6,
				secret_sealed = $7, secret_key_id = $8, previous_secrets_sealed = $9, previous_secrets_key_id = $10,
				previous_secrets_expire_at = $11, updated_at = now()
			WHERE id = $1
			RETURNING `+webhookEndpointColumns,
			e.ID, e.URL, e.Description, e.EnabledEvents, e.Status, e.DisabledReason, sealed, keyID, prevSealed, prevKeyID, prevExpire))
		if err != nil {
			return fmt.Errorf("update webhook endpoint %s: %w", id, err)
		}
		return insertAuditQ(ctx, tx, endpointChange("webhook_endpoint.updated", updated))
	})
	return updated, err
}

// DeleteWebhookEndpoint soft-deletes an endpoint and cancels its pending
// deliveries in the same transaction.
func (s *Store) DeleteWebhookEndpoint(ctx context.Context, merchantID string, mode billing.Mode, id string) error {
	return s.WithTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE webhook_endpoints SET deleted_at = now(), updated_at = now(), status = 'disabled'
			WHERE id = $1 AND merchant_id = $2 AND mode = $3 AND deleted_at IS NULL`, id, merchantID, mode)
		if err != nil {
			return fmt.Errorf("delete webhook endpoint %s: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return billing.NotFound("webhook_endpoint", id)
		}
		_, err = tx.Exec(ctx, `UPDATE webhook_deliveries SET state = 'canceled', last_error = 'endpoint deleted',
			next_attempt_at = NULL, updated_at = now() WHERE endpoint_id = $1 AND state = 'pending'`, id)
		if err != nil {
			return fmt.Errorf("cancel deliveries of %s: %w", id, err)
		}
		return insertAuditQ(ctx, tx, endpointChange("webhook_endpoint.deleted",
			billing.WebhookEndpoint{ID: id, MerchantID: merchantID, Mode: mode}))
	})
}

// endpointChange describes a change to an endpoint: its URL, events and
// status, never its signing secrets.
func endpointChange(action string, e billing.WebhookEndpoint) audit.Change {
	return audit.Change{MerchantID: e.MerchantID, Mode: string(e.Mode), Action: action, ObjectType: "webhook_endpoint",
		ObjectID: e.ID, Summary: map[string]any{"url": e.URL, "status": string(e.Status), "enabled_events": e.EnabledEvents}}
}
