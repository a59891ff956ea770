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
	return s.CreatePaymentAt(ctx, tx, p, Progress{})
}

// Progress is what creating a payment does to the idempotency key of the
// request that creates it: it moves the key's recovery point to Point
// and, with Claim, claims the key first.
type Progress struct {
	Key   IdempotencyKey // none: no key
	Point string
	Claim *PendingClaim
}

// CreatePaymentAt inserts a payment and moves its request's idempotency key
// (see Progress) in the same statement, so all of it happens or none. With
// tx nil the statement is its own transaction: a charge's first phase in
// one round trip. When pr.Claim finds the key taken, nothing is written
// and the error is ErrIdempotencyKeyExists.
func (s *Store) CreatePaymentAt(ctx context.Context, tx pgx.Tx, p billing.Payment, pr Progress) (billing.Payment, error) {
	metadata := p.Metadata
	if metadata == nil {
		metadata = map[string]any{}
	}
	args := []any{p.ID, p.MerchantID, p.Mode, p.CustomerID, p.BillingKeyID, p.ProviderAccountID, p.Provider,
		p.Amount, p.TaxFree, p.Currency, p.OrderName, p.Status, metadata, p.ScheduledAt,
		p.SubscriptionID, p.Period, p.PeriodStart}
	k := pr.Key
	var sql string
	switch {
	case k.Key == "":
		sql = insertPayment + ` VALUES ` + paymentValues + ` RETURNING ` + paymentColumns
	case pr.Claim == nil:
		// A data-modifying WITH runs whether or not the query reads it.
		sql = `WITH created AS (` + insertPayment + ` VALUES ` + paymentValues + ` RETURNING ` + paymentColumns + `),
			progress AS (UPDATE idempotency_keys SET recovery_point = $18
				WHERE merchant_id = $19 AND mode = $20 AND key = $21)
			SELECT ` + paymentColumns + ` FROM created`
		args = append(args, pr.Point, k.MerchantID, k.Mode, k.Key)
	default:
		// The claim, as ClaimIdempotencyKey's first statement does it, with
		// the recovery point already moved; the payment only if it claimed.
		r := pr.Claim.Request
		sql = `WITH claim AS (
				INSERT INTO idempotency_keys (merchant_id, mode, key, fingerprint, method, path, locked_at, recovery_point)
				VALUES ($19, $20, $21, $22, $23, $24, now(), $18)
				ON CONFLICT (merchant_id, mode, key) DO NOTHING
				RETURNING 1),
			created AS (` + insertPayment + ` SELECT ` + paymentValues[1:len(paymentValues)-1] + `
				WHERE EXISTS (SELECT FROM claim) RETURNING ` + paymentColumns + `)
			SELECT ` + paymentColumns + ` FROM created`
		args = append(args, pr.Point, k.MerchantID, k.Mode, k.Key, r.Fingerprint, r.Method, r.Path)
	}
	var q querier = s.pool
	if tx != nil {
		q = tx
	}
	created, err := scanPayment(q.QueryRow(ctx, sql, args...))
	if constraint, ok := uniqueViolation(err); ok && constraint == "payments_one_per_period" {
		return p, ErrPeriodTaken
	}
	if pr.Claim != nil && errors.Is(err, pgx.ErrNoRows) {
		return p, ErrIdempotencyKeyExists
	}
	if err != nil {
		return p, fmt.Errorf("create payment: %w", err)
	}
	if pr.Claim != nil {
		pr.Claim.claimed.Store(true)
	}
	return created, nil
}

const (
	insertPayment = `INSERT INTO payments (id, merchant_id, mode, customer_id, billing_key_id, provider_account_id, provider,
		amount, tax_free, currency, order_name, status, metadata, scheduled_at, subscription_id, period, period_start)`
	paymentValues = `($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`
)

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
	sql, args, err := settlePayment(id, o)
	if err != nil {
		return billing.Payment{}, false, err
	}
	return settledPayment(id, tx.QueryRow(ctx, sql, args...))
}

// SettlePaymentTx is SettlePayment in a transaction of its own that then
// runs fn with the payment as it now stands and whether it changed (when
// not, fn may lock it to read it). BEGIN and the update reach the server
// together: a charge's second phase costs a round trip less.
func (s *Store) SettlePaymentTx(ctx context.Context, id string, o billing.Outcome, fn func(tx pgx.Tx, p billing.Payment, changed bool) error) error {
	sql, args, err := settlePayment(id, o)
	if err != nil {
		return err
	}
	var (
		p       billing.Payment
		changed bool
	)
	return s.withTxFrom(ctx, sql, args, func(row pgx.Row) error {
		p, changed, err = settledPayment(id, row)
		return err
	}, func(tx pgx.Tx) error { return fn(tx, p, changed) })
}

// settlePayment is the update of SettlePayment.
func settlePayment(id string, o billing.Outcome) (string, []any, error) {
	from := billing.SettleFrom(o.Status)
	if len(from) == 0 {
		return "", nil, fmt.Errorf("settle payment %s: %q is not an outcome", id, o.Status)
	}
	var paidAt, failedAt *time.Time
	switch o.Status {
	case billing.PaymentPaid:
		paidAt = &o.At
	case billing.PaymentFailed:
		failedAt = &o.At
	}
	return `
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
			recovered_at = CASE WHEN status = 'failed' AND $2 = 'paid' THEN now() ELSE recovered_at END,
			updated_at = now()
		WHERE id = $1 AND status = ANY($12)
		RETURNING ` + paymentColumns, []any{
			id, o.Status, o.ProviderPaymentID, o.PG, o.CardName, o.CardNumber, o.ReceiptURL, o.FailureCode, o.FailureMessage,
			paidAt, failedAt, statusStrings(from)}, nil
}

// settledPayment reads the update's answer: no row means no change.
func settledPayment(id string, row pgx.Row) (billing.Payment, bool, error) {
	p, err := scanPayment(row)
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
