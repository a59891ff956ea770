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

// CreateMerchant stores a new merchant.
func (s *Store) CreateMerchant(ctx context.Context, m billing.Merchant) (billing.Merchant, error) {
	err := s.audited(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx,
			`INSERT INTO merchants (id, name) VALUES ($1, $2) RETURNING created_at`,
			m.ID, m.Name).Scan(&m.CreatedAt)
	}, func() audit.Change {
		return audit.Change{MerchantID: m.ID, Action: "merchant.created", ObjectType: "merchant", ObjectID: m.ID}
	})
	if err != nil {
		return m, fmt.Errorf("create merchant: %w", err)
	}
	return m, nil
}

// GetMerchant reads one merchant.
func (s *Store) GetMerchant(ctx context.Context, id string) (billing.Merchant, error) {
	m := billing.Merchant{ID: id}
	err := s.pool.QueryRow(ctx, `SELECT name, settings, created_at FROM merchants WHERE id = $1`, id).Scan(&m.Name, &m.Settings, &m.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, billing.NotFound("merchant", id)
	}
	if err != nil {
		return m, fmt.Errorf("get merchant %s: %w", id, err)
	}
	return m, nil
}

// FindMerchantByName returns the oldest merchant with that name, for `billingd
// dev`, which keeps its sandbox merchant across runs.
func (s *Store) FindMerchantByName(ctx context.Context, name string) (billing.Merchant, error) {
	m := billing.Merchant{Name: name}
	err := s.pool.QueryRow(ctx,
		`SELECT id, created_at FROM merchants WHERE name = $1 ORDER BY id LIMIT 1`, name).Scan(&m.ID, &m.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, billing.NotFound("merchant", name)
	}
	if err != nil {
		return m, fmt.Errorf("find merchant: %w", err)
	}
	return m, nil
}

// CreateAPIKey stores a key's hash. The merchant must exist.
func (s *Store) CreateAPIKey(ctx context.Context, k billing.APIKey) (billing.APIKey, error) {
	err := s.audited(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `
			INSERT INTO api_keys (id, merchant_id, kind, mode, key_hash, key_hint)
			SELECT $1, id, $3, $4, $5, $6 FROM merchants WHERE id = $2
			RETURNING created_at`,
			k.ID, k.MerchantID, k.Kind, k.Mode, k.Hash, k.Hint).Scan(&k.CreatedAt)
	}, func() audit.Change {
		return audit.Change{MerchantID: k.MerchantID, Mode: string(k.Mode), Action: "api_key.created", ObjectType: "api_key",
			ObjectID: k.ID, Summary: map[string]any{"kind": k.Kind, "hint": k.Hint}}
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return k, billing.NotFound("merchant", k.MerchantID)
	}
	if err != nil {
		return k, fmt.Errorf("create api key: %w", err)
	}
	return k, nil
}

// RevokeAPIKey revokes a key. Revoking twice is not an error; the first
// revocation time is kept.
func (s *Store) RevokeAPIKey(ctx context.Context, id string) (billing.APIKey, error) {
	k := billing.APIKey{ID: id}
	var revoked time.Time
	err := s.audited(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `
			UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1
			RETURNING merchant_id, kind, mode, key_hint, created_at, revoked_at`, id).
			Scan(&k.MerchantID, &k.Kind, &k.Mode, &k.Hint, &k.CreatedAt, &revoked)
	}, func() audit.Change {
		return audit.Change{MerchantID: k.MerchantID, Mode: string(k.Mode), Action: "api_key.revoked", ObjectType: "api_key",
			ObjectID: k.ID, Summary: map[string]any{"kind": k.Kind, "hint": k.Hint}}
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return k, billing.NotFound("api key", id)
	}
	if err != nil {
		return k, fmt.Errorf("revoke api key %s: %w", id, err)
	}
	k.RevokedAt = &revoked
	return k, nil
}

// ListAPIKeys lists a merchant's keys, newest first, revoked ones included.
func (s *Store) ListAPIKeys(ctx context.Context, merchantID string) ([]billing.APIKey, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, merchant_id, kind, mode, key_hint, created_at, revoked_at
		FROM api_keys WHERE merchant_id = $1 ORDER BY id DESC`, merchantID)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (billing.APIKey, error) {
		var k billing.APIKey
		err := row.Scan(&k.ID, &k.MerchantID, &k.Kind, &k.Mode, &k.Hint, &k.CreatedAt, &k.RevokedAt)
		return k, err
	})
}

// Authenticate resolves an API key to its record. Unknown and revoked keys
// are both billing.EUnauthorized: a caller learns nothing about which.
func (s *Store) Authenticate(ctx context.Context, key string) (billing.APIKey, error) {
	var k billing.APIKey
	err := s.pool.QueryRow(ctx, `
		SELECT id, merchant_id, kind, mode, key_hint, created_at
		FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`, billing.HashAPIKey(key)).
		Scan(&k.ID, &k.MerchantID, &k.Kind, &k.Mode, &k.Hint, &k.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return k, billing.Errorf(billing.EUnauthorized, "invalid API key")
	}
	if err != nil {
		return k, fmt.Errorf("authenticate: %w", err)
	}
	return k, nil
}
