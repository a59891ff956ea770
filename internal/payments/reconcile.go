package payments

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/providers"
)

// ErrStillUnknown means the PG could not tell yet what became of a payment
// or refund; ask again later.
var ErrStillUnknown = errors.New("outcome still unknown")

// Timing of reconciliation.
const (
	// StaleAfter is how long a payment may stay processing before the sweep
	// assumes the process that charged it died. It is well above the PG
	// timeout, so a charge still in flight is never second-guessed.
	StaleAfter = 2 * time.Minute
	// NotFoundGrace is how old an order must be before "the PG has no such
	// order" is taken to mean it never happened.
	NotFoundGrace = 10 * time.Minute
)

// Reconcile asks the PG what became of a payment whose outcome is not
// known (and of a refund of it in flight) and records the answer. It
// returns ErrStillUnknown when the PG cannot tell yet.
func (s *Service) Reconcile(ctx context.Context, paymentID string) (billing.Payment, error) {
	p, err := s.store.PaymentByID(ctx, paymentID)
	if err != nil {
		return p, err
	}
	if p.Status.Unsettled() {
		if p, err = s.reconcilePayment(ctx, p); err != nil {
			return p, err
		}
	}
	if r, ok, err := s.store.UnsettledRefund(ctx, p.ID); err != nil {
		return p, err
	} else if ok {
		if p, err = s.reconcileRefund(ctx, p, r); err != nil {
			return p, err
		}
	}
	return p, nil
}

func (s *Service) reconcilePayment(ctx context.Context, p billing.Payment) (billing.Payment, error) {
	pgPayment, err := s.lookup(ctx, p)
	switch {
	case errors.Is(err, providers.ErrNotFound):
		if time.Since(p.CreatedAt) < NotFoundGrace {
			_ = s.store.TouchPayment(ctx, p.ID)
			return p, fmt.Errorf("%w: the PG does not know order %s yet", ErrStillUnknown, p.ID)
		}
		return s.settle(ctx, p, billing.Outcome{Status: billing.PaymentFailed, At: s.clock.Now(p.Mode),
			FailureCode: "not_found_at_pg", FailureMessage: "the PG has no record of this order; it was never charged"}, nil)
	case err != nil:
		_ = s.store.TouchPayment(ctx, p.ID)
		return p, fmt.Errorf("%w: %v", ErrStillUnknown, err)
	}
	p, err = s.applyPG(ctx, p, pgPayment, pathReconcile)
	if errors.Is(err, ErrPGMismatch) && p.Status == billing.PaymentProcessing {
		// Not the answer to billingd's charge: the outcome is unknown
		// until the PG's own record of this order says otherwise.
		if settled, serr := s.settle(ctx, p, billing.Outcome{Status: billing.PaymentUnknown}, nil); serr == nil {
			p = settled
		}
	}
	if err == nil && p.Status.Unsettled() {
		err = fmt.Errorf("%w: the PG reports order %s as %s", ErrStillUnknown, p.ID, pgPayment.Status)
	}
	return p, err
}

// lookup asks the PG about a payment: by its PG id when known, else by
// our order id.
func (s *Service) lookup(ctx context.Context, p billing.Payment) (providers.Payment, error) {
	account, err := s.store.GetProviderAccount(ctx, p.ProviderAccountID)
	if err != nil {
		return providers.Payment{}, err
	}
	pgClient, err := s.gateways.For(account)
	if err != nil {
		return providers.Payment{}, err
	}
	pctx, cancel := s.pgContext(ctx)
	defer cancel()
	if p.ProviderPaymentID != nil && *p.ProviderPaymentID != "" {
		return pgClient.GetPayment(pctx, *p.ProviderPaymentID)
	}
	return pgClient.FindPayment(pctx, p.ID)
}

// applyPG records the PG's view of a payment: its outcome, and any
// cancelled total beyond what billingd knows (refunds made in the PG's
// console included). Only forward moves happen; it returns the payment as
// it now stands. An answer that does not match the payment (checkPG) is
// not applied: ErrPGMismatch. path names the caller, for the metric.
func (s *Service) applyPG(ctx context.Context, p billing.Payment, pg providers.Payment, path string) (billing.Payment, error) {
	ctx, cancel := recordContext(ctx)
	defer cancel()
	if err := s.checkPG(ctx, p, pg, path); err != nil {
		return p, err
	}
	o := outcomeOf(pg)
	err := s.withTx(ctx, func(tx pgx.Tx) error {
		if err := s.lockSubscriptionOf(ctx, tx, p); err != nil {
			return err
		}
		if o.Status == billing.PaymentPaid || o.Status == billing.PaymentFailed {
			before := p
			updated, changed, err := s.store.SettlePayment(ctx, tx, p.ID, o)
			if err != nil {
				return err
			}
			if changed {
				p = updated
				// Only paid follows failed, so a payment read as failed
				// that changed was failed until now: a recovery. (It is
				// not locked first: refunds lock the refund, then the
				// payment, and this transaction goes the other way.)
				if before.Status == billing.PaymentFailed {
					err = s.afterRecovered(ctx, tx, p, before)
				} else {
					err = s.afterSettle(ctx, tx, p, nil)
				}
				if err != nil {
					return err
				}
			}
		}
		if pg.CancelledAmount > 0 {
			if err := s.applyCancelled(ctx, tx, p.ID, pg.CancelledAmount); err != nil {
				return err
			}
		}
		var err error
		p, err = s.store.LockPayment(ctx, tx, p.ID)
		return err
	})
	return p, err
}

// applyCancelled raises the payment's refunded total to the PG's and
// settles a refund in flight that the total shows went through.
func (s *Service) applyCancelled(ctx context.Context, tx pgx.Tx, paymentID string, cancelled int64) error {
	p, changed, err := s.store.RecordRefunded(ctx, tx, paymentID, cancelled)
	if err != nil {
		return err
	}
	if changed {
		if err := s.event(ctx, tx, p.MerchantID, p.Mode, billing.EventPaymentRefunded, "payment", p.ID, p); err != nil {
			return err
		}
	} else if p, err = s.store.LockPayment(ctx, tx, paymentID); err != nil {
		return err
	}
	r, ok, err := s.store.UnsettledRefundTx(ctx, tx, paymentID)
	if err != nil || !ok {
		return err
	}
	if cancelled >= (p.Amount-r.RefundableBefore)+r.Amount {
		return s.settleRefund(ctx, tx, r.ID, billing.RefundSucceeded, "", "")
	}
	return nil
}

// outcomeOf reads the PG's view of a payment as an outcome.
func outcomeOf(pg providers.Payment) billing.Outcome {
	o := billing.Outcome{
		ProviderPaymentID: pg.ProviderID, PG: pg.PG, CardName: pg.CardName, CardNumber: pg.CardNumber,
		ReceiptURL: pg.ReceiptURL, FailureCode: pg.FailCode, FailureMessage: pg.FailReason,
		CancelledAmount: pg.CancelledAmount,
	}
	switch pg.Status {
	case providers.StatusPaid, providers.StatusCancelled:
		// A cancelled payment was paid first; the cancel is recorded as a
		// refund beside it.
		o.Status, o.At = billing.PaymentPaid, pg.PaidAt
	case providers.StatusFailed:
		o.Status, o.At = billing.PaymentFailed, pg.FailedAt
	default:
		o.Status = billing.PaymentUnknown
	}
	return o
}

// SweepStale queues reconciliation for payments stuck in processing (the
// process that charged them died before recording the answer) or unknown
// without a live job. It returns how many it queued.
func (s *Service) SweepStale(ctx context.Context) (int, error) {
	ids, err := s.store.StalePayments(ctx, time.Now().Add(-StaleAfter), 500)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	err = s.withTx(ctx, func(tx pgx.Tx) error {
		for _, id := range ids {
			if _, err := s.queue.InsertTx(ctx, tx, ReconcileArgs{PaymentID: id}, nil); err != nil {
				return fmt.Errorf("queue reconcile of %s: %w", id, err)
			}
		}
		return nil
	})
	return len(ids), err
}
