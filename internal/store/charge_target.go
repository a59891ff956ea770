package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/billing"
)

// ChargeTarget is what a charge reads before it starts: the billing key,
// its customer and its provider account.
type ChargeTarget struct {
	Key      billing.BillingKey
	Customer billing.Customer
	Account  billing.ProviderAccount
}

// chargeTargetColumns are billingKeyColumns, then the customer's and the
// account's columns (customerColumns and providerAccountColumns, prefixed).
var chargeTargetColumns = billingKeyColumns + `, ` + prefixColumns("c", customerColumns) + `, ` + providerAccountColumnsOfA

const chargeTargetFrom = billingKeyFrom + ` JOIN provider_accounts a ON a.id = k.provider_account_id AND a.deleted_at IS NULL `

// FindChargeTarget reads a charge's key (keyID, or else the default key of
// customerID), its customer and its account in one round trip, where
// reading them one by one takes three. It reports false, with no error,
// when any of the three is missing (no such key, a deleted customer or
// account): the caller then reads them one by one to say which.
func (s *Store) FindChargeTarget(ctx context.Context, merchantID string, mode billing.Mode, keyID, customerID string) (ChargeTarget, bool, error) {
	var (
		t    ChargeTarget
		cust customerRow
		acct accountRow
	)
	where := `WHERE k.id = $1 AND k.merchant_id = $2 AND k.mode = $3 AND c.deleted_at IS NULL`
	id := keyID
	if keyID == "" {
		where = `WHERE c.id = $1 AND c.merchant_id = $2 AND c.mode = $3 AND c.deleted_at IS NULL AND k.id = c.default_billing_key_id`
		id = customerID
	}
	dest := append(append(billingKeyDest(&t.Key), cust.dest()...), acct.dest()...)
	err := s.pool.QueryRow(ctx, `SELECT `+chargeTargetColumns+chargeTargetFrom+where, id, merchantID, mode).Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, false, nil
	}
	if err != nil {
		return t, false, fmt.Errorf("charge target %s%s: %w", keyID, customerID, err)
	}
	t.Customer = cust.customer()
	if t.Account, err = s.openAccount(acct); err != nil {
		return t, false, err
	}
	return t, true, nil
}

// prefixColumns qualifies a plain column list with a table alias.
func prefixColumns(alias, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}
