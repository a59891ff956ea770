package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/billing"
)

const refundColumns = `id, payment_id, merchant_id, mode, amount, tax_free, reason, status, refundable_before,
	failure_code, failure_message, created_at, updated_at`

func scanRefund(row pgx.Row) (billing.Refund, error) {
	var r billing.Refund
	err := row.Scan(&r.ID, &r.PaymentID, &r.MerchantID, &r.Mode, &r.Amount, &r.TaxFree, &r.Reason, &r.Status,
		&r.RefundableBefore, &r.FailureCode, &r.FailureMessage, &r.CreatedAt, &r.UpdatedAt)
	return r, err
}

// CreateRefund records a refund about to be asked of the PG. Only one refund
// of a payment may be in flight: the next one's checksum depends on how this
// one ends.
func (s *Store) CreateRefund(ctx context.Context, tx pgx.Tx, r billing.Refund) (billing.Refund, error) {
	created, err := scanRefund(tx.QueryRow(ctx, `
		INSERT INTO refunds (id, payment_id, merchant_id, mode, amount, tax_free, reason, status, refundable_before)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING `+refundColumns,
		r.ID, r.PaymentID, r.MerchantID, r.Mode, r.Amount, r.TaxFree, r.Reason, r.Status, r.RefundableBefore))
	if constraint, ok := uniqueViolation(err); ok && constraint == "refunds_one_in_flight" {
		return r, &billing.Error{Code: billing.EConflict, Reason: "refund_in_progress",
			Message: fmt.Sprintf("another refund of payment %s is still in progress; retry when it has settled", r.PaymentID)}
	}
	if err != nil {
		return r, fmt.Errorf("create refund: %w", err)
	}
	return created, nil
}

// SettleRefund records the PG's answer to a pending or unknown refund. It
// reports whether the refund changed.
func (s *Store) SettleRefund(ctx context.Context, tx pgx.Tx, id string, status billing.RefundStatus, code, message string) (billing.Refund, bool, error) {
	from := []string{string(billing.RefundPending)}
	if status != billing.RefundUnknown {
		from = append(from, string(billing.RefundUnknown))
	}
	r, err := scanRefund(tx.QueryRow(ctx, `
		UPDATE refunds SET status = $2, failure_code = nullif($3, ''), failure_message = nullif($4, ''), updated_at = now()
		WHERE id = $1 AND status = ANY($5) RETURNING `+refundColumns, id, status, code, message, from))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("settle refund %s: %w", id, err)
	}
	return r, true, nil
}

// RecordRefunded raises a payment's refunded total to cancelled (never
// lowers it) and moves it to partially_refunded or refunded. The PG's
// cumulative total is the truth, so a refund made outside billingd (the PG's
// console) is recorded the same way. It reports whether anything changed.
func (s *Store) RecordRefunded(ctx context.Context, tx pgx.Tx, paymentID string, cancelled int64) (billing.Payment, bool, error) {
	p, err := scanPayment(tx.QueryRow(ctx, `
		UPDATE payments SET refunded_amount = $2,
			status = CASE WHEN $2 >= amount THEN 'refunded' ELSE 'partially_refunded' END, updated_at = now()
		WHERE id = $1 AND status IN ('paid', 'partially_refunded') AND refunded_amount < $2 AND $2 <= amount
		RETURNING `+paymentColumns, paymentID, cancelled))
	if errors.Is(err, pgx.ErrNoRows) {
		return p, false, nil
	}
	if err != nil {
		return p, false, fmt.Errorf("record refund of %s: %w", paymentID, err)
	}
	return p, true, nil
}

// GetRefund reads a refund of a merchant and mode.
func (s *Store) GetRefund(ctx context.Context, merchantID string, mode billing.Mode, id string) (billing.Refund, error) {
	r, err := scanRefund(s.pool.QueryRow(ctx, `SELECT `+refundColumns+` FROM refunds
		WHERE id = $1 AND merchant_id = $2 AND mode = $3`, id, merchantID, mode))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, billing.NotFound("refund", id)
	}
	if err != nil {
		return r, fmt.Errorf("get refund %s: %w", id, err)
	}
	return r, nil
}

// RefundsOf lists a payment's refunds, oldest first.
func (s *Store) RefundsOf(ctx context.Context, paymentID string) ([]billing.Refund, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+refundColumns+` FROM refunds WHERE payment_id = $1 ORDER BY id`, paymentID)
	if err != nil {
		return nil, fmt.Errorf("refunds of %s: %w", paymentID, err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (billing.Refund, error) { return scanRefund(row) })
}

// UnsettledRefund returns the payment's refund whose outcome is not known,
// if any.
func (s *Store) UnsettledRefund(ctx context.Context, paymentID string) (billing.Refund, bool, error) {
	return unsettledRefund(ctx, s.pool, paymentID)
}

// UnsettledRefundTx is UnsettledRefund inside a transaction.
func (s *Store) UnsettledRefundTx(ctx context.Context, tx pgx.Tx, paymentID string) (billing.Refund, bool, error) {
	return unsettledRefund(ctx, tx, paymentID)
}

func unsettledRefund(ctx context.Context, q querier, paymentID string) (billing.Refund, bool, error) {
	r, err := scanRefund(q.QueryRow(ctx, `SELECT `+refundColumns+` FROM refunds
		WHERE payment_id = $1 AND status IN ('pending', 'unknown')`, paymentID))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, fmt.Errorf("unsettled refund of %s: %w", paymentID, err)
	}
	return r, true, nil
}
