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

const billingKeyColumns = `k.id, k.merchant_id, k.mode, k.customer_id, k.provider_account_id, k.provider, k.pg, k.method,
	k.status, k.alias, coalesce(k.provider_key, ''), k.client_secret_hash, k.card_name, k.card_number, k.card_type,
	k.failure_code, k.failure_message, coalesce(c.default_billing_key_id = k.id, false),
	k.expires_at, k.created_at, k.updated_at, k.activated_at, k.deleted_at`

const billingKeyFrom = ` FROM billing_keys k JOIN customers c ON c.id = k.customer_id `

func scanBillingKey(row pgx.Row) (billing.BillingKey, error) {
	var k billing.BillingKey
	err := row.Scan(billingKeyDest(&k)...)
	return k, err
}

// billingKeyDest is where billingKeyColumns scan to.
func billingKeyDest(k *billing.BillingKey) []any {
	return []any{&k.ID, &k.MerchantID, &k.Mode, &k.CustomerID, &k.ProviderAccountID, &k.Provider, &k.PG, &k.Method,
		&k.Status, &k.Alias, &k.ProviderKey, &k.ClientSecretHash, &k.CardName, &k.CardNumber, &k.CardType,
		&k.FailureCode, &k.FailureMessage, &k.IsDefault,
		&k.ExpiresAt, &k.CreatedAt, &k.UpdatedAt, &k.ActivatedAt, &k.DeletedAt}
}

// CreateBillingKey stores a new (pending or about to be active) key.
func (s *Store) CreateBillingKey(ctx context.Context, tx pgx.Tx, k billing.BillingKey) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO billing_keys (id, merchant_id, mode, customer_id, provider_account_id, provider, pg, method,
			status, alias, provider_key, client_secret_hash, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, nullif($11, ''), $12, $13)`,
		k.ID, k.MerchantID, k.Mode, k.CustomerID, k.ProviderAccountID, k.Provider, k.PG, k.Method,
		k.Status, k.Alias, k.ProviderKey, k.ClientSecretHash, k.ExpiresAt)
	if err != nil {
		return fmt.Errorf("create billing key: %w", err)
	}
	// Which PG and customer, never the card or the PG's key.
	return insertAuditQ(ctx, tx, audit.Change{MerchantID: k.MerchantID, Mode: string(k.Mode), Action: "billing_key.created",
		ObjectType: "billing_key", ObjectID: k.ID, Summary: map[string]any{"customer_id": k.CustomerID, "provider": k.Provider,
			"pg": k.PG, "status": string(k.Status)}})
}

// GetBillingKey reads a key of a merchant and mode.
func (s *Store) GetBillingKey(ctx context.Context, merchantID string, mode billing.Mode, id string) (billing.BillingKey, error) {
	return getBillingKey(ctx, s.pool, merchantID, mode, id, "")
}

// LockBillingKey reads a key and locks it for the transaction.
func (s *Store) LockBillingKey(ctx context.Context, tx pgx.Tx, merchantID string, mode billing.Mode, id string) (billing.BillingKey, error) {
	return getBillingKey(ctx, tx, merchantID, mode, id, "FOR UPDATE OF k")
}

func getBillingKey(ctx context.Context, q querier, merchantID string, mode billing.Mode, id, lock string) (billing.BillingKey, error) {
	k, err := scanBillingKey(q.QueryRow(ctx, `SELECT `+billingKeyColumns+billingKeyFrom+`
		WHERE k.id = $1 AND k.merchant_id = $2 AND k.mode = $3 `+lock, id, merchantID, mode))
	if errors.Is(err, pgx.ErrNoRows) {
		return k, billing.NotFound("billing key", id)
	}
	if err != nil {
		return k, fmt.Errorf("get billing key %s: %w", id, err)
	}
	return k, nil
}

// DefaultBillingKey returns the customer's default key.
func (s *Store) DefaultBillingKey(ctx context.Context, merchantID string, mode billing.Mode, customerID string) (billing.BillingKey, error) {
	k, err := scanBillingKey(s.pool.QueryRow(ctx, `SELECT `+billingKeyColumns+billingKeyFrom+`
		WHERE c.id = $1 AND c.merchant_id = $2 AND c.mode = $3 AND c.deleted_at IS NULL
		  AND k.id = c.default_billing_key_id`, customerID, merchantID, mode))
	if errors.Is(err, pgx.ErrNoRows) {
		return k, &billing.Error{Code: billing.EInvalid, Reason: "no_default_billing_key", Param: "customer_id",
			Message: fmt.Sprintf("customer %s has no active default billing key; register one or pass billing_key_id", customerID)}
	}
	if err != nil {
		return k, fmt.Errorf("default billing key of %s: %w", customerID, err)
	}
	return k, nil
}

// BillingKeyFilter selects a page of keys.
type BillingKeyFilter struct {
	Page
	CustomerID string
	Status     billing.BillingKeyStatus
}

// ListBillingKeys returns a page of keys, newest first.
func (s *Store) ListBillingKeys(ctx context.Context, merchantID string, mode billing.Mode, f BillingKeyFilter) ([]billing.BillingKey, bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+billingKeyColumns+billingKeyFrom+`
		WHERE k.merchant_id = $1 AND k.mode = $2 AND ($3 = '' OR k.id < $3)
		  AND ($4 = '' OR k.customer_id = $4) AND ($5 = '' OR k.status = $5)
		ORDER BY k.id DESC LIMIT $6`, merchantID, mode, f.StartingAfter, f.CustomerID, string(f.Status), f.Limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("list billing keys: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (billing.BillingKey, error) { return scanBillingKey(row) })
	if err != nil {
		return nil, false, fmt.Errorf("list billing keys: %w", err)
	}
	return trimPage(list, f.Page)
}

// ActivateBillingKey moves a pending key to active with the PG's card
// details and, when the customer has none, makes it their default. It
// reports false when the key was no longer pending.
func (s *Store) ActivateBillingKey(ctx context.Context, tx pgx.Tx, k billing.BillingKey) (bool, error) {
	tag, err := tx.Exec(ctx, `
		UPDATE billing_keys SET status = 'active', provider_key = $2, card_name = $3, card_number = $4,
			card_type = $5, activated_at = now(), updated_at = now()
		WHERE id = $1 AND status = 'pending'`, k.ID, k.ProviderKey, k.CardName, k.CardNumber, k.CardType)
	if err != nil {
		return false, fmt.Errorf("activate billing key %s: %w", k.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	_, err = tx.Exec(ctx, `UPDATE customers SET default_billing_key_id = $2, updated_at = now()
		WHERE id = $1 AND (default_billing_key_id IS NULL OR default_billing_key_id NOT IN
			(SELECT id FROM billing_keys WHERE status = 'active' AND id <> $2))`, k.CustomerID, k.ID)
	if err != nil {
		return false, fmt.Errorf("set default billing key: %w", err)
	}
	return true, nil
}

// FailBillingKey moves a pending key to failed. It reports false when the
// key was no longer pending.
func (s *Store) FailBillingKey(ctx context.Context, tx pgx.Tx, id, code, message string) (bool, error) {
	tag, err := tx.Exec(ctx, `UPDATE billing_keys SET status = 'failed', failure_code = nullif($2, ''),
		failure_message = $3, updated_at = now() WHERE id = $1 AND status = 'pending'`, id, code, message)
	if err != nil {
		return false, fmt.Errorf("fail billing key %s: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// DeleteBillingKey marks a key deleted and, when it was the customer's
// default, picks the newest other active key as the default.
func (s *Store) DeleteBillingKey(ctx context.Context, tx pgx.Tx, k billing.BillingKey) error {
	_, err := tx.Exec(ctx, `UPDATE billing_keys SET status = 'deleted', deleted_at = now(), updated_at = now()
		WHERE id = $1 AND status <> 'deleted'`, k.ID)
	if err != nil {
		return fmt.Errorf("delete billing key %s: %w", k.ID, err)
	}
	_, err = tx.Exec(ctx, `UPDATE customers SET default_billing_key_id =
			(SELECT id FROM billing_keys WHERE customer_id = $1 AND status = 'active' ORDER BY id DESC LIMIT 1),
			updated_at = now()
		WHERE id = $1 AND default_billing_key_id = $2`, k.CustomerID, k.ID)
	if err != nil {
		return fmt.Errorf("reassign default billing key: %w", err)
	}
	return nil
}

// SetDefaultBillingKey makes an active key its customer's default.
func (s *Store) SetDefaultBillingKey(ctx context.Context, k billing.BillingKey) error {
	return s.audited(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE customers SET default_billing_key_id = $2, updated_at = now() WHERE id = $1`, k.CustomerID, k.ID)
		if err != nil {
			return fmt.Errorf("set default billing key %s: %w", k.ID, err)
		}
		return nil
	}, func() audit.Change {
		return audit.Change{MerchantID: k.MerchantID, Mode: string(k.Mode), Action: "billing_key.set_default", ObjectType: "billing_key",
			ObjectID: k.ID, Summary: map[string]any{"customer_id": k.CustomerID}}
	})
}

// ExpirePendingBillingKeys fails pending keys past their deadline and
// returns them, so events can be written in the same transaction.
func (s *Store) ExpirePendingBillingKeys(ctx context.Context, tx pgx.Tx, mode billing.Mode, now time.Time, limit int) ([]billing.BillingKey, error) {
	rows, err := tx.Query(ctx, `
		UPDATE billing_keys SET status = 'failed', failure_code = 'registration_expired',
			failure_message = 'the registration was not confirmed in time', updated_at = now()
		WHERE id IN (SELECT id FROM billing_keys WHERE status = 'pending' AND mode = $3 AND expires_at < $1
			ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)
		RETURNING id`, now, limit, mode)
	if err != nil {
		return nil, fmt.Errorf("expire billing keys: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("expire billing keys: %w", err)
	}
	keys := make([]billing.BillingKey, 0, len(ids))
	for _, id := range ids {
		k, err := scanBillingKey(tx.QueryRow(ctx, `SELECT `+billingKeyColumns+billingKeyFrom+` WHERE k.id = $1`, id))
		if err != nil {
			return nil, fmt.Errorf("read expired key %s: %w", id, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}
