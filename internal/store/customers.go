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

const customerColumns = `id, merchant_id, mode, external_id, name, email, phone, birth, gender, metadata, verified_at, created_at, updated_at`

func scanCustomer(row pgx.Row) (billing.Customer, error) {
	var c customerRow
	err := row.Scan(c.dest()...)
	return c.customer(), err
}

// customerRow is where customerColumns scan to.
type customerRow struct {
	c      billing.Customer
	birth  *time.Time
	gender *string
}

func (r *customerRow) dest() []any {
	c := &r.c
	return []any{&c.ID, &c.MerchantID, &c.Mode, &c.ExternalID, &c.Name, &c.Email, &c.Phone,
		&r.birth, &r.gender, &c.Metadata, &c.VerifiedAt, &c.CreatedAt, &c.UpdatedAt}
}

func (r *customerRow) customer() billing.Customer {
	c := r.c
	if r.birth != nil {
		c.Birth = &billing.Date{Time: *r.birth}
	}
	if r.gender != nil {
		g := billing.Gender(*r.gender)
		c.Gender = &g
	}
	return c
}

func customerArgs(c billing.Customer) []any {
	var birth *time.Time
	if c.Birth != nil {
		birth = &c.Birth.Time
	}
	metadata := c.Metadata
	if metadata == nil {
		metadata = map[string]any{}
	}
	return []any{c.ID, c.MerchantID, c.Mode, c.ExternalID, c.Name, c.Email, c.Phone, birth, c.Gender, metadata}
}

// CreateCustomer stores a new customer. A live customer of the same merchant
// and mode with the same external_id is a conflict naming that customer.
func (s *Store) CreateCustomer(ctx context.Context, c billing.Customer) (billing.Customer, error) {
	var created billing.Customer
	err := s.audited(ctx, func(tx pgx.Tx) error {
		var err error
		created, err = scanCustomer(tx.QueryRow(ctx, `
			INSERT INTO customers (id, merchant_id, mode, external_id, name, email, phone, birth, gender, metadata)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			RETURNING `+customerColumns, customerArgs(c)...))
		return err
	}, func() audit.Change { return customerChange("customer.created", c) })
	if err != nil {
		return c, s.customerWriteError(ctx, c, err)
	}
	return created, nil
}

// GetCustomer reads one live customer of a merchant and mode.
func (s *Store) GetCustomer(ctx context.Context, merchantID string, mode billing.Mode, id string) (billing.Customer, error) {
	return getCustomer(ctx, s.pool, merchantID, mode, id, "")
}

func getCustomer(ctx context.Context, q querier, merchantID string, mode billing.Mode, id, lock string) (billing.Customer, error) {
	c, err := scanCustomer(q.QueryRow(ctx, `SELECT `+customerColumns+` FROM customers
		WHERE id = $1 AND merchant_id = $2 AND mode = $3 AND deleted_at IS NULL `+lock, id, merchantID, mode))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, billing.NotFound("customer", id)
	}
	if err != nil {
		return c, fmt.Errorf("get customer %s: %w", id, err)
	}
	return c, nil
}

// UpdateCustomer applies in to a customer atomically: the row is locked,
// the input validated against it, and written back, or nothing changes.
func (s *Store) UpdateCustomer(ctx context.Context, merchantID string, mode billing.Mode, id string, in billing.CustomerInput) (billing.Customer, error) {
	var updated billing.Customer
	err := s.WithTx(ctx, func(tx pgx.Tx) error {
		c, err := getCustomer(ctx, tx, merchantID, mode, id, "FOR UPDATE")
		if err != nil {
			return err
		}
		if err := in.Apply(&c); err != nil {
			return err
		}
		updated, err = scanCustomer(tx.QueryRow(ctx, `
			UPDATE customers SET external_id = $4, name = $5, email = $6, phone = $7, birth = $8,
				gender = $9, metadata = $10, updated_at = now()
			WHERE id = $1 AND merchant_id = $2 AND mode = $3
			RETURNING `+customerColumns, customerArgs(c)...))
		if err != nil {
			return s.customerWriteError(ctx, c, err)
		}
		return insertAuditQ(ctx, tx, customerChange("customer.updated", c))
	})
	return updated, err
}

// DeleteCustomer soft-deletes a customer; its external_id becomes free.
func (s *Store) DeleteCustomer(ctx context.Context, merchantID string, mode billing.Mode, id string) error {
	return s.audited(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE customers SET deleted_at = now(), updated_at = now()
			WHERE id = $1 AND merchant_id = $2 AND mode = $3 AND deleted_at IS NULL`, id, merchantID, mode)
		if err != nil {
			return fmt.Errorf("delete customer %s: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return billing.NotFound("customer", id)
		}
		return nil
	}, func() audit.Change {
		return customerChange("customer.deleted", billing.Customer{ID: id, MerchantID: merchantID, Mode: mode})
	})
}

// customerChange names a change to a customer; a customer's fields are
// identity data, so the summary has none of them.
func customerChange(action string, c billing.Customer) audit.Change {
	return audit.Change{MerchantID: c.MerchantID, Mode: string(c.Mode), Action: action, ObjectType: "customer", ObjectID: c.ID}
}

// CustomerFilter selects a page of customers.
type CustomerFilter struct {
	Page
	ExternalID string // exact match, when set
	Email      string // exact match, when set
}

// ListCustomers returns a page of live customers, newest first.
func (s *Store) ListCustomers(ctx context.Context, merchantID string, mode billing.Mode, f CustomerFilter) ([]billing.Customer, bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+customerColumns+` FROM customers
		WHERE merchant_id = $1 AND mode = $2 AND deleted_at IS NULL
		  AND ($3 = '' OR id < $3)
		  AND ($4 = '' OR external_id = $4)
		  AND ($5 = '' OR email = $5)
		ORDER BY id DESC LIMIT $6`,
		merchantID, mode, f.StartingAfter, f.ExternalID, f.Email, f.Limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("list customers: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (billing.Customer, error) { return scanCustomer(row) })
	if err != nil {
		return nil, false, fmt.Errorf("list customers: %w", err)
	}
	return trimPage(list, f.Page)
}

// customerWriteError turns an external_id clash into a conflict that names
// the customer already holding it.
func (s *Store) customerWriteError(ctx context.Context, c billing.Customer, err error) error {
	if constraint, ok := uniqueViolation(err); ok && constraint == "customers_external_id" && c.ExternalID != nil {
		var existing string
		_ = s.pool.QueryRow(ctx, `SELECT id FROM customers WHERE merchant_id = $1 AND mode = $2
			AND external_id = $3 AND deleted_at IS NULL`, c.MerchantID, c.Mode, *c.ExternalID).Scan(&existing)
		return &billing.Error{
			Code: billing.EConflict, Reason: "external_id_taken", Param: "external_id",
			Message: fmt.Sprintf("customer %s already has this external_id", existing),
		}
	}
	return fmt.Errorf("write customer %s: %w", c.ID, err)
}
