package store

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/audit"
	"github.com/billingd/billingd/internal/billing"
)

// userTokenAAD binds a sealed user token to its row: a ciphertext copied to
// another customer's row does not open.
func userTokenAAD(customerID, accountID string) []byte {
	return []byte("bootpay_user_token\x00" + customerID + "\x00" + accountID)
}

// issuedForHMAC is the keyed hash of what a token was issued for (the
// customer data sent to Bootpay, the account version), so a cached token
// is reused only for an identical request without storing that data again.
func (s *Store) issuedForHMAC(issuedFor []byte) []byte {
	return s.keys.Lookup(append([]byte("bootpay_user_token v1\x00"), issuedFor...))
}

// CachedBootpayUserToken returns the customer's cached user token at a
// Bootpay account if it was issued for exactly issuedFor; found is false
// otherwise. The caller decides whether it has enough life left.
func (s *Store) CachedBootpayUserToken(ctx context.Context, merchantID string, mode billing.Mode, customerID, accountID string, issuedFor []byte) (billing.BootpayUserToken, bool, error) {
	t := billing.BootpayUserToken{MerchantID: merchantID, Mode: mode, CustomerID: customerID, ProviderAccountID: accountID}
	var (
		sealed, mac []byte
		keyID       string
	)
	err := s.pool.QueryRow(ctx, `SELECT token_sealed, token_key_id, request_hmac, expires_at, created_at
		FROM bootpay_user_tokens
		WHERE customer_id = $1 AND provider_account_id = $2 AND merchant_id = $3 AND mode = $4`,
		customerID, accountID, merchantID, mode).Scan(&sealed, &keyID, &mac, &t.ExpiresAt, &t.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, false, nil
	}
	if err != nil {
		return t, false, fmt.Errorf("read user token of %s: %w", customerID, err)
	}
	if !hmac.Equal(mac, s.issuedForHMAC(issuedFor)) {
		return t, false, nil
	}
	plain, err := s.keys.Open(keyID, sealed, userTokenAAD(customerID, accountID))
	if err != nil {
		return t, false, fmt.Errorf("open user token of %s: %w", customerID, err)
	}
	t.Token = string(plain)
	return t, true, nil
}

// SaveBootpayUserToken caches a user token for the customer at the
// account, replacing the one before. The customer must still be a live
// customer of the merchant and mode (ENotFound otherwise).
func (s *Store) SaveBootpayUserToken(ctx context.Context, t billing.BootpayUserToken, issuedFor []byte) error {
	keyID, sealed := s.keys.Seal([]byte(t.Token), userTokenAAD(t.CustomerID, t.ProviderAccountID))
	return s.audited(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			INSERT INTO bootpay_user_tokens (customer_id, provider_account_id, merchant_id, mode, token_sealed, token_key_id,
				request_hmac, expires_at)
			SELECT id, $2, merchant_id, mode, $5, $6, $7, $8 FROM customers
			WHERE id = $1 AND merchant_id = $3 AND mode = $4 AND deleted_at IS NULL
			ON CONFLICT (customer_id, provider_account_id) DO UPDATE SET token_sealed = excluded.token_sealed,
				token_key_id = excluded.token_key_id, request_hmac = excluded.request_hmac,
				expires_at = excluded.expires_at, created_at = now()`,
			t.CustomerID, t.ProviderAccountID, t.MerchantID, t.Mode, sealed, keyID, s.issuedForHMAC(issuedFor), t.ExpiresAt)
		if err != nil {
			return fmt.Errorf("save user token of %s: %w", t.CustomerID, err)
		}
		if tag.RowsAffected() == 0 {
			return billing.NotFound("customer", t.CustomerID)
		}
		return nil
	}, func() audit.Change {
		// The token itself is a credential: the row says only that one was issued.
		return audit.Change{MerchantID: t.MerchantID, Mode: string(t.Mode), Action: "bootpay_user_token.issued",
			ObjectType: "customer", ObjectID: t.CustomerID}
	})
}
