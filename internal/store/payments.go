package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/billing"
)

const paymentColumns = `id, merchant_id, mode, customer_id, billing_key_id, provider_account_id, provider, amount, tax_free,
	currency, order_name, status, refunded_amount, provider_payment_id, pg, card_name, card_number, receipt_url,
	failure_code, failure_message, metadata, paid_at, failed_at, scheduled_at, subscription_id, period, period_start,
	provider_schedule_id, created_at, updated_at`

func scanPayment(row pgx.Row) (billing.Payment, error) {
	var p billing.Payment
	err := row.Scan(&p.ID, &p.MerchantID, &p.Mode, &p.CustomerID, &p.BillingKeyID, &p.ProviderAccountID, &p.Provider,
		&p.Amount, &p.TaxFree, &p.Currency, &p.OrderName, &p.Status, &p.RefundedAmount, &p.ProviderPaymentID, &p.PG,
		&p.CardName, &p.CardNumber, &p.ReceiptURL, &p.FailureCode, &p.FailureMessage, &p.Metadata,
		&p.PaidAt, &p.FailedAt, &p.ScheduledAt, &p.SubscriptionID, &p.Period, &p.PeriodStart,
		&p.ProviderScheduleID, &p.CreatedAt, &p.UpdatedAt)
	return p, err
}

// CreatePayment inserts a payment (processing, or scheduled) and returns it
// as stored.
func (s *Store) CreatePayment(ctx context.Context, tx pgx.Tx, p billing.Payment) (billing.Payment, error) {
	metadata := p.Metadata
	if metadata == nil {
		metadata = map[string]any{}
	}
	created, err := scanPayment(tx.QueryRow(ctx, `
		INSERT INTO payments (id, merchant_id, mode, customer_id, billing_key_id, provider_account_id, provider,
			amount, tax_free, currency, order_name, status, metadata, scheduled_at, subscription_id, period, period_start)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
		RETURNING `+paymentColumns,
		p.ID, p.MerchantID, p.Mode, p.CustomerID, p.BillingKeyID, p.ProviderAccountID, p.Provider,
		p.Amount, p.TaxFree, p.Currency, p.OrderName, p.Status, metadata, p.ScheduledAt,
		p.SubscriptionID, p.Period, p.PeriodStart))
	if constraint, ok := uniqueViolation(err); ok && constraint == "payments_one_per_period" {
		return p, ErrPeriodTaken
	}
	if err != nil {
		return p, fmt.Errorf("create payment: %w", err)
	}
	return created, nil
}

// ErrPeriodTaken means the subscription period already has a live payment:
// the schema's guarantee that no period is billed twice.
var ErrPeriodTaken = &billing.Error{Code: billing.EConflict, Reason: "period_already_billed",
	Message: "this subscription period already has a payment"}

// GetPayment reads a payment of a merchant and mode.
func (s *Store) GetPayment(ctx context.Context, merchantID string, mode billing.Mode, id string) (billing.Payment, error) {
	p, err := scanPayment(s.pool.QueryRow(ctx, `SELECT `+paymentColumns+` FROM payments
		WHERE id = $1 AND merchant_id = $2 AND mode = $3`, id, merchantID, mode))
	if errors.Is(err, pgx.ErrNoRows) {
		return p, billing.NotFound("payment", id)
	}
	if err != nil {
		return p, fmt.Errorf("get payment %s: %w", id, err)
	}
	return p, nil
}

// PaymentByID reads a payment whoever owns it: jobs and PG notifications
// know only the id.
func (s *Store) PaymentByID(ctx context.Context, id string) (billing.Payment, error) {
	p, err := scanPayment(s.pool.QueryRow(ctx, `SELECT `+paymentColumns+` FROM payments WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return p, billing.NotFound("payment", id)
	}
	if err != nil {
		return p, fmt.Errorf("get payment %s: %w", id, err)
	}
	return p, nil
}

// LockPayment reads a payment and locks it for the transaction.
func (s *Store) LockPayment(ctx context.Context, tx pgx.Tx, id string) (billing.Payment, error) {
	p, err := scanPayment(tx.QueryRow(ctx, `SELECT `+paymentColumns+` FROM payments WHERE id = $1 FOR UPDATE`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return p, billing.NotFound("payment", id)
	}
	if err != nil {
		return p, fmt.Errorf("lock payment %s: %w", id, err)
	}
	return p, nil
}

// SettlePayment records what the PG said became of a payment — paid,
// failed or unknown — but only from a state that may move there (see
// billing.SettleFrom): a late or repeated answer never moves a payment
// backwards. It reports whether anything changed.
func (s *Store) SettlePayment(ctx context.Context, tx pgx.Tx, id string, o billing.Outcome) (billing.Payment, bool, error) {
	from := billing.SettleFrom(o.Status)
	if len(from) == 0 {
		return billing.Payment{}, false, fmt.Errorf("settle payment %s: %q is not an outcome", id, o.Status)
	}
	var paidAt, failedAt *time.Time
	switch o.Status {
	case billing.PaymentPaid:
		paidAt = &o.At
	case billing.PaymentFailed:
		failedAt = &o.At
	}
	p, err := scanPayment(tx.QueryRow(ctx, `
		UPDATE payments SET status = $2,
			provider_payment_id = coalesce(nullif($3, ''), provider_payment_id),
			pg = coalesce(nullif($4, ''), pg),
			card_name = coalesce(nullif($5, ''), card_name),
			card_number = coalesce(nullif($6, ''), card_number),
			receipt_url = coalesce(nullif($7, ''), receipt_url),
			failure_code = CASE WHEN $2 = 'failed' THEN nullif($8, '') ELSE failure_code END,
			failure_message = CASE WHEN $2 = 'failed' THEN nullif($9, '') ELSE failure_message END,
			paid_at = coalesce($10, paid_at),
			failed_at = coalesce($11, failed_at),
			updated_at = now()
		WHERE id = $1 AND status = ANY($12)
		RETURNING `+paymentColumns,
		id, o.Status, o.ProviderPaymentID, o.PG, o.CardName, o.CardNumber, o.ReceiptURL, o.FailureCode, o.FailureMessage,
		paidAt, failedAt, statusStrings(from)))
	if errors.Is(err, pgx.ErrNoRows) {
		return p, false, nil
	}
	if err != nil {
		return p, false, fmt.Errorf("settle payment %s: %w", id, err)
	}
	return p, true, nil
}

// TouchPayment marks an unsettled payment as looked at, so the stale sweep
// does not pick it again at once.
func (s *Store) TouchPayment(ctx context.Context, id string) error {
	_, err := s.pool.Exec(ctx, `UPDATE payments SET updated_at = now() WHERE id = $1 AND status IN ('processing', 'unknown')`, id)
	return err
}

// StalePayments lists payments whose outcome has been unknown, or stuck in
// processing (a process died between the PG call and recording its
// answer), since before olderThan — and payments with a refund in that
// state.
func (s *Store) StalePayments(ctx context.Context, olderThan time.Time, limit int) ([]string, error) {
	rows, err := s.pool.Query(ctx, `
		(SELECT id FROM payments WHERE status IN ('processing', 'unknown') AND updated_at < $1 ORDER BY updated_at LIMIT $2)
		UNION
		(SELECT payment_id FROM refunds WHERE status IN ('pending', 'unknown') AND updated_at < $1 ORDER BY updated_at LIMIT $2)`,
		olderThan, limit)
	if err != nil {
		return nil, fmt.Errorf("stale payments: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// PaymentFilter selects a page of payments.
type PaymentFilter struct {
	Page
	CustomerID    string
	Status        billing.PaymentStatus
	CreatedAfter  *time.Time
	CreatedBefore *time.Time
}

// ListPayments returns a page of payments, newest first.
func (s *Store) ListPayments(ctx context.Context, merchantID string, mode billing.Mode, f PaymentFilter) ([]billing.Payment, bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+paymentColumns+` FROM payments
		WHERE merchant_id = $1 AND mode = $2 AND ($3 = '' OR id < $3)
		  AND ($4 = '' OR customer_id = $4) AND ($5 = '' OR status = $5)
		  AND ($6::timestamptz IS NULL OR created_at >= $6) AND ($7::timestamptz IS NULL OR created_at < $7)
		ORDER BY id DESC LIMIT $8`,
		merchantID, mode, f.StartingAfter, f.CustomerID, string(f.Status), f.CreatedAfter, f.CreatedBefore, f.Limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("list payments: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (billing.Payment, error) { return scanPayment(row) })
	if err != nil {
		return nil, false, fmt.Errorf("list payments: %w", err)
	}
	return trimPage(list, f.Page)
}

func statusStrings(list []billing.PaymentStatus) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = string(s)
	}
	return out
}
