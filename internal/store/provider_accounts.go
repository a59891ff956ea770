package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/audit"
	"github.com/billingd/billingd/internal/billing"
)

const providerAccountColumns = `id, merchant_id, mode, provider, credentials_sealed, credentials_key_id,
	coalesce(base_url, ''), settings, created_at, updated_at`

// providerAccountColumnsOfA is providerAccountColumns of a join's table
// aliased a (prefixColumns cannot split the coalesce).
const providerAccountColumnsOfA = `a.id, a.merchant_id, a.mode, a.provider, a.credentials_sealed, a.credentials_key_id,
	coalesce(a.base_url, ''), a.settings, a.created_at, a.updated_at`

// seal encrypts credentials bound to the account id: a ciphertext copied
// onto another account's row will not open.
func (s *Store) seal(a billing.ProviderAccount) (keyID string, sealed []byte, err error) {
	plain, err := json.Marshal(a.Credentials)
	if err != nil {
		return "", nil, fmt.Errorf("encode credentials: %w", err)
	}
	keyID, sealed = s.keys.Seal(plain, []byte(a.ID))
	return keyID, sealed, nil
}

func (s *Store) scanProviderAccount(row pgx.Row) (billing.ProviderAccount, error) {
	var r accountRow
	if err := row.Scan(r.dest()...); err != nil {
		return r.a, err
	}
	return s.openAccount(r)
}

// accountRow is where providerAccountColumns scan to, credentials sealed.
type accountRow struct {
	a      billing.ProviderAccount
	sealed []byte
	keyID  string
}

func (r *accountRow) dest() []any {
	a := &r.a
	return []any{&a.ID, &a.MerchantID, &a.Mode, &a.Provider, &r.sealed, &r.keyID,
		&a.BaseURL, &a.Settings, &a.CreatedAt, &a.UpdatedAt}
}

// openAccount opens a scanned account's credentials.
func (s *Store) openAccount(r accountRow) (billing.ProviderAccount, error) {
	a := r.a
	plain, err := s.keys.Open(r.keyID, r.sealed, []byte(a.ID))
	if err != nil {
		return a, fmt.Errorf("open credentials of %s: %w", a.ID, err)
	}
	if err := json.Unmarshal(plain, &a.Credentials); err != nil {
		return a, fmt.Errorf("decode credentials of %s: %w", a.ID, err)
	}
	return a, nil
}

// CreateProviderAccount stores an account with its credentials sealed. A
// second live account for the same provider, merchant and mode conflicts.
func (s *Store) CreateProviderAccount(ctx context.Context, a billing.ProviderAccount) (billing.ProviderAccount, error) {
	keyID, sealed, err := s.seal(a)
	if err != nil {
		return a, err
	}
	settings := a.Settings
	if settings == nil {
		settings = map[string]any{}
	}
	var created billing.ProviderAccount
	err = s.audited(ctx, func(tx pgx.Tx) error {
		var err error
		created, err = s.scanProviderAccount(tx.QueryRow(ctx, `
			INSERT INTO provider_accounts (id, merchant_id, mode, provider, credentials_sealed, credentials_key_id, base_url, settings)
			SELECT $1, id, $3, $4, $5, $6, nullif($7, ''), $8 FROM merchants WHERE id = $2
			RETURNING `+providerAccountColumns,
			a.ID, a.MerchantID, a.Mode, a.Provider, sealed, keyID, a.BaseURL, settings))
		return err
	}, func() audit.Change { return providerAccountChange("provider_account.created", created) })
	if errors.Is(err, pgx.ErrNoRows) {
		return a, billing.NotFound("merchant", a.MerchantID)
	}
	if _, ok := uniqueViolation(err); ok {
		return a, &billing.Error{Code: billing.EConflict, Reason: "provider_account_exists", Param: "provider",
			Message: fmt.Sprintf("the merchant already has a %s account in %s mode; update or delete it", a.Provider, a.Mode)}
	}
	if err != nil {
		return a, fmt.Errorf("create provider account: %w", err)
	}
	return created, nil
}

// GetProviderAccount reads one live account by id, whoever owns it (PG
// webhooks arrive with only the account id).
func (s *Store) GetProviderAccount(ctx context.Context, id string) (billing.ProviderAccount, error) {
	return s.getProviderAccount(ctx, s.pool, id, "")
}

func (s *Store) getProviderAccount(ctx context.Context, q querier, id, lock string) (billing.ProviderAccount, error) {
	a, err := s.scanProviderAccount(q.QueryRow(ctx, `SELECT `+providerAccountColumns+`
		FROM provider_accounts WHERE id = $1 AND deleted_at IS NULL `+lock, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return a, billing.NotFound("provider account", id)
	}
	if err != nil {
		return a, fmt.Errorf("get provider account %s: %w", id, err)
	}
	return a, nil
}

// FindProviderAccount returns the merchant's live account for a provider in
// a mode.
func (s *Store) FindProviderAccount(ctx context.Context, merchantID string, mode billing.Mode, provider string) (billing.ProviderAccount, error) {
	a, err := s.scanProviderAccount(s.pool.QueryRow(ctx, `SELECT `+providerAccountColumns+`
		FROM provider_accounts WHERE merchant_id = $1 AND mode = $2 AND provider = $3 AND deleted_at IS NULL`,
		merchantID, mode, provider))
	if errors.Is(err, pgx.ErrNoRows) {
		return a, &billing.Error{Code: billing.EInvalid, Reason: "provider_not_configured", Param: "provider",
			Message: fmt.Sprintf("no %s account is configured for %s mode", provider, mode)}
	}
	if err != nil {
		return a, fmt.Errorf("find %s account: %w", provider, err)
	}
	return a, nil
}

// ListProviderAccounts lists a merchant's live accounts, newest first.
func (s *Store) ListProviderAccounts(ctx context.Context, merchantID string) ([]billing.ProviderAccount, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+providerAccountColumns+`
		FROM provider_accounts WHERE merchant_id = $1 AND deleted_at IS NULL ORDER BY id DESC`, merchantID)
	if err != nil {
		return nil, fmt.Errorf("list provider accounts: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (billing.ProviderAccount, error) {
		return s.scanProviderAccount(row)
	})
}

// UpdateProviderAccount locks an account, lets change modify it, validates
// the result and writes it back — credentials sealed again under the
// current primary key — or changes nothing.
func (s *Store) UpdateProviderAccount(ctx context.Context, id string, change func(*billing.ProviderAccount) error) (billing.ProviderAccount, error) {
	var updated billing.ProviderAccount
	err := s.WithTx(ctx, func(tx pgx.Tx) error {
		a, err := s.getProviderAccount(ctx, tx, id, "FOR UPDATE")
		if err != nil {
			return err
		}
		if err := change(&a); err != nil {
			return err
		}
		if err := a.Validate(); err != nil {
			return err
		}
		keyID, sealed, err := s.seal(a)
		if err != nil {
			return err
		}
		updated, err = s.scanProviderAccount(tx.QueryRow(ctx, `
			UPDATE provider_accounts SET credentials_sealed = $2, credentials_key_id = $3,
				base_url = nullif($4, ''), settings = $5, updated_at = now()
			WHERE id = $1 RETURNING `+providerAccountColumns, a.ID, sealed, keyID, a.BaseURL, a.Settings))
		if err != nil {
			return err
		}
		return insertAuditQ(ctx, tx, providerAccountChange("provider_account.updated", updated))
	})
	return updated, err
}

// DeleteProviderAccount soft-deletes an account, unless payments still
// need it (ErrProviderAccountInUse): reconciling, settling and refunding
// them all go through the account.
func (s *Store) DeleteProviderAccount(ctx context.Context, id string) error {
	var a billing.ProviderAccount
	return s.audited(ctx, func(tx pgx.Tx) error {
		// FOR UPDATE waits for transactions inserting payments of the
		// account (their foreign key holds KEY SHARE on it), so the check
		// below sees them.
		err := tx.QueryRow(ctx, `SELECT merchant_id, mode, provider FROM provider_accounts WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`,
			id).Scan(&a.MerchantID, &a.Mode, &a.Provider)
		if errors.Is(err, pgx.ErrNoRows) {
			return billing.NotFound("provider account", id)
		}
		if err != nil {
			return fmt.Errorf("delete provider account %s: %w", id, err)
		}
		var inUse bool
		err = tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM payments WHERE provider_account_id = $1
				AND status IN ('processing', 'unknown', 'scheduled', 'paid', 'partially_refunded'))
			OR EXISTS (SELECT 1 FROM refunds r JOIN payments p ON p.id = r.payment_id
				WHERE p.provider_account_id = $1 AND r.status IN ('pending', 'unknown'))`, id).Scan(&inUse)
		if err != nil {
			return fmt.Errorf("delete provider account %s: %w", id, err)
		}
		if inUse {
			return ErrProviderAccountInUse
		}
		if _, err = tx.Exec(ctx, `UPDATE provider_accounts SET deleted_at = now(), updated_at = now() WHERE id = $1`, id); err != nil {
			return fmt.Errorf("delete provider account %s: %w", id, err)
		}
		a.ID = id
		return nil
	}, func() audit.Change { return providerAccountChange("provider_account.deleted", a) })
}

// providerAccountChange describes a change to an account for the audit
// log: which PG and mode, never the credentials.
func providerAccountChange(action string, a billing.ProviderAccount) audit.Change {
	return audit.Change{MerchantID: a.MerchantID, Mode: string(a.Mode), Action: action, ObjectType: "provider_account",
		ObjectID: a.ID, Summary: map[string]any{"provider": a.Provider, "base_url": a.BaseURL}}
}

// ErrProviderAccountInUse refuses to delete an account whose payments are
// unsettled, have a refund in flight, or can still be refunded.
var ErrProviderAccountInUse = &billing.Error{Code: billing.EConflict, Reason: "provider_account_in_use",
	Message: "this provider account has payments whose outcome is not settled or that can still be refunded; " +
		"settle or refund them first"}
