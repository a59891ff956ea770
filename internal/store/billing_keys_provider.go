package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/billing"
)

// BillingKeyByProviderKey finds an account's key by the PG's key string
// (a PortOne V2 webhook names only that), the newest if several.
func (s *Store) BillingKeyByProviderKey(ctx context.Context, accountID, providerKey string) (billing.BillingKey, error) {
	k, err := scanBillingKey(s.pool.QueryRow(ctx, `SELECT `+billingKeyColumns+billingKeyFrom+`
		WHERE k.provider_account_id = $1 AND k.provider_key = $2 ORDER BY k.id DESC LIMIT 1`, accountID, providerKey))
	if errors.Is(err, pgx.ErrNoRows) {
		return k, billing.NotFound("billing key", providerKey)
	}
	if err != nil {
		return k, fmt.Errorf("billing key by provider key: %w", err)
	}
	return k, nil
}
