package payments

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/providers"
	"github.com/billingd/billingd/internal/store"
)

// RefundInput asks for money back. Amount 0 means all that is left.
type RefundInput struct {
	Amount  int64  `json:"amount"`
	TaxFree int64  `json:"tax_free"`
	Reason  string `json:"reason"`
}

const recoveryRefundPrefix = "refund:"

// Refund returns all or part of a paid payment. A payment whose outcome is
// not known is reconciled first; so is a refund of it still in flight. The
// PG checks our view of the refundable balance (Iamport's checksum), so two
// views that differ never both refund.
func (s *Service) Refund(ctx context.Context, c Caller, paymentID string, in RefundInput, idem Idempotency) (billing.Refund, billing.Payment, error) {
	var r billing.Refund
	if id, ok := strings.CutPrefix(idem.RecoveryPoint, recoveryRefundPrefix); ok {
		return s.resumeRefund(ctx, c, paymentID, id)
	}
	if !billing.ValidID(billing.PrefixPayment, paymentID) {
		return r, billing.Payment{}, billing.NotFound("payment", paymentID)
	}
	reason := strings.TrimSpace(in.Reason)
	if reason == "" || utf8.RuneCountInString(reason) > 200 {
		return r, billing.Payment{}, billing.Invalid("reason", "reason must be 1 to 200 characters")
	}
	if in.Amount < 0 {
		return r, billing.Payment{}, billing.Invalid("amount", "amount must be positive (or omitted for the whole remaining balance)")
	}
	p, err := s.store.GetPayment(ctx, c.MerchantID, c.Mode, paymentID)
	if err != nil {
		return r, p, err
	}
	if _, pending, err := s.store.UnsettledRefund(ctx, p.ID); err != nil {
		return r, p, err
	} else if p.Status.Unsettled() || pending {
		if p, err = s.Reconcile(ctx, p.ID); err != nil {
			if errors.Is(err, ErrStillUnknown) {
				return r, p, &billing.Error{Code: billing.EConflict, Reason: "outcome_unknown",
					Message: "this payment (or a refund of it) has an outcome the PG has not confirmed yet; retry later"}
			}
			return r, p, err
		}
	}
	if !p.Status.Refundable() {
		return r, p, &billing.Error{Code: billing.EConflict, Reason: "payment_not_refundable",
			Message: fmt.Sprintf("payment %s is %s; only paid payments can be refunded", p.ID, p.Status)}
	}
	amount := in.Amount
	if amount == 0 {
		amount = p.Refundable()
	}
	if amount > p.Refundable() {
		return r, p, billing.Invalid("amount", "amount exceeds the refundable balance of %d", p.Refundable())
	}
	if in.TaxFree < 0 || in.TaxFree > amount {
		return r, p, billing.Invalid("tax_free", "tax_free must be from 0 to amount")
	}

	// Phase 1: lock the payment, check the balance again, record the refund.
	err = s.withTx(ctx, func(tx pgx.Tx) error {
		locked, err := s.store.LockPayment(ctx, tx, p.ID)
		if err != nil {
			return err
		}
		if !locked.Status.Refundable() || amount > locked.Refundable() {
			return &billing.Error{Code: billing.EConflict, Reason: "payment_changed",
				Message: "the payment changed while the refund was prepared; retry"}
		}
		p = locked
		r, err = s.store.CreateRefund(ctx, tx, billing.Refund{
			ID: billing.NewID(billing.PrefixRefund), PaymentID: p.ID, MerchantID: p.MerchantID, Mode: p.Mode,
			Amount: amount, TaxFree: in.TaxFree, Reason: reason, Status: billing.RefundPending,
			RefundableBefore: p.Refundable(),
		})
		if err != nil {
			return err
		}
		if idem.Key.Key != "" {
			return store.SetRecoveryPoint(ctx, tx, idem.Key, recoveryRefundPrefix+r.ID)
		}
		return nil
	})
	if err != nil {
		return r, p, err
	}

	account, err := s.store.GetProviderAccount(ctx, p.ProviderAccountID)
	if err != nil {
		return r, p, err
	}
	pgClient, err := s.gateways.For(account)
	if err != nil {
		return r, p, err
	}
	req := providers.CancelRequest{OrderID: p.ID, Amount: amount, Refundable: r.RefundableBefore,
		TaxFree: in.TaxFree, Reason: reason, CancelID: r.ID}
	if p.ProviderPaymentID != nil {
		req.ProviderID = *p.ProviderPaymentID
	}
	pctx, cancel := s.pgContext(ctx)
	pgPayment, cancelErr := pgClient.Cancel(pctx, req)
	cancel()

	// Phase 2: record the answer, whether or not the client still waits.
	rctx, rcancel := recordContext(ctx)
	defer rcancel()
	switch {
	case cancelErr == nil:
		err = s.withTx(rctx, func(tx pgx.Tx) error {
			// The payment first, then its refund, as the notification and
			// reconcile paths lock them: the other order deadlocks with the
			// PG's cancel notification applied at the same moment.
			if _, err := s.store.LockPayment(rctx, tx, p.ID); err != nil {
				return err
			}
			if err := s.settleRefund(rctx, tx, r.ID, billing.RefundSucceeded, "", ""); err != nil {
				return err
			}
			total := pgPayment.CancelledAmount
			if expected := p.RefundedAmount + amount; total < expected {
				total = expected // the PG's reply may omit the total
			}
			return s.applyCancelled(rctx, tx, p.ID, total)
		})
	case errors.Is(cancelErr, providers.ErrUnknown):
		err = s.withTx(rctx, func(tx pgx.Tx) error {
			if err := s.settleRefund(rctx, tx, r.ID, billing.RefundUnknown, "", ""); err != nil {
				return err
			}
			return s.enqueueReconcile(rctx, tx, p.ID)
		})
	default:
		code, message := failureOf(cancelErr)
		err = s.withTx(rctx, func(tx pgx.Tx) error { return s.settleRefund(rctx, tx, r.ID, billing.RefundFailed, code, message) })
	}
	if err != nil {
		return r, p, err
	}
	return s.refundResult(ctx, c, r.ID, cancelErr)
}

func (s *Service) refundResult(ctx context.Context, c Caller, refundID string, cancelErr error) (billing.Refund, billing.Payment, error) {
	r, err := s.store.GetRefund(ctx, c.MerchantID, c.Mode, refundID)
	if err != nil {
		return r, billing.Payment{}, err
	}
	p, err := s.store.GetPayment(ctx, c.MerchantID, c.Mode, r.PaymentID)
	if err != nil {
		return r, p, err
	}
	if r.Status == billing.RefundFailed {
		if cancelErr == nil {
			cancelErr = &providers.Error{Kind: providers.ErrRejected, Provider: p.Provider, Op: "cancel"}
		}
		return r, p, providerError("refund", cancelErr, "refund", r)
	}
	return r, p, nil
}

// resumeRefund answers a retried request whose first run created a refund.
func (s *Service) resumeRefund(ctx context.Context, c Caller, paymentID, refundID string) (billing.Refund, billing.Payment, error) {
	r, err := s.store.GetRefund(ctx, c.MerchantID, c.Mode, refundID)
	if err != nil {
		return r, billing.Payment{}, err
	}
	if r.Status == billing.RefundPending || r.Status == billing.RefundUnknown {
		if _, err := s.Reconcile(ctx, paymentID); err != nil && !errors.Is(err, ErrStillUnknown) {
			return r, billing.Payment{}, err
		}
	}
	return s.refundResult(ctx, c, refundID, nil)
}

// settleRefund records a refund's outcome with its event.
func (s *Service) settleRefund(ctx context.Context, tx pgx.Tx, id string, status billing.RefundStatus, code, message string) error {
	r, changed, err := s.store.SettleRefund(ctx, tx, id, status, code, message)
	if err != nil || !changed {
		return err
	}
	typ := map[billing.RefundStatus]string{billing.RefundSucceeded: billing.EventRefundSucceeded,
		billing.RefundFailed: billing.EventRefundFailed, billing.RefundUnknown: billing.EventRefundUnknown}[status]
	return s.event(ctx, tx, r.MerchantID, r.Mode, typ, "refund", r.ID, r)
}

// reconcileRefund settles a refund whose answer was lost, from the PG's
// cancelled total: if it includes this refund, it succeeded; if, long
// after, it still does not, it never happened.
func (s *Service) reconcileRefund(ctx context.Context, p billing.Payment, r billing.Refund) (billing.Payment, error) {
	pgPayment, err := s.lookup(ctx, p)
	if err != nil {
		return p, fmt.Errorf("%w: refund %s: %v", ErrStillUnknown, r.ID, err)
	}
	if p, err = s.applyPG(ctx, p, pgPayment, pathReconcile); err != nil {
		return p, err
	}
	if pgPayment.CancelledAmount >= (p.Amount-r.RefundableBefore)+r.Amount {
		return p, nil // applyPG settled it
	}
	if time.Since(r.CreatedAt) < NotFoundGrace {
		return p, fmt.Errorf("%w: the PG does not show refund %s yet", ErrStillUnknown, r.ID)
	}
	rctx, cancel := recordContext(ctx)
	defer cancel()
	err = s.withTx(rctx, func(tx pgx.Tx) error {
		return s.settleRefund(rctx, tx, r.ID, billing.RefundFailed, "not_found_at_pg", "the PG shows no such cancellation")
	})
	return p, err
}
