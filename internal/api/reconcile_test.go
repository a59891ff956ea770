package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/providers"
)

// TestReconcileThroughTheQueue runs reconciliation the way production
// does: a River job, picked up by the running workers.
func TestReconcileThroughTheQueue(t *testing.T) {
	t.Parallel()
	b := setupPayments(t)
	key := b.activeKey(t, "payco")
	// 8: the PG records the payment and its reply is cut in half. The PG's
	// own webhook would settle it too; take it out of the picture.
	b.sandbox.Iamport.SetWebhooksEnabled(false)
	r := b.charge(t, "lost", map[string]any{"billing_key_id": key, "amount": 2008, "order_name": "x"})
	requireStatus(t, r, http.StatusAccepted)
	// The job waits a minute; bring it forward instead of waiting.
	if _, err := b.store.Pool().Exec(t.Context(), `UPDATE river_job SET scheduled_at = now() WHERE kind = 'reconcile_payment'`); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for b.paymentStatus(t, r.str("id")) != "paid" {
		if time.Now().After(deadline) {
			t.Fatal("the reconcile job did not settle the payment within 15 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSweepFindsAPaymentWhoseProcessDied simulates a crash between the PG
// call and recording its answer: the payment is processing, the PG has it.
func TestSweepFindsAPaymentWhoseProcessDied(t *testing.T) {
	t.Parallel()
	b := setupPaymentsWith(t, bundleOpts{noJobs: true})
	keyID := b.activeKey(t, "payco")
	key, err := b.store.GetBillingKey(t.Context(), b.m.id, billing.ModeTest, keyID)
	if err != nil {
		t.Fatal(err)
	}
	p := billing.Payment{ID: billing.NewID(billing.PrefixPayment), MerchantID: b.m.id, Mode: billing.ModeTest,
		CustomerID: b.customer, BillingKeyID: keyID, ProviderAccountID: b.accountID, Provider: "iamport",
		Amount: 7000, Currency: "KRW", OrderName: "x", Status: billing.PaymentProcessing}
	tx, err := b.store.Pool().Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.store.CreatePayment(t.Context(), tx, p); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	client, _ := b.gateways.Iamport(mustAccount(t, b))
	if _, err := client.Charge(t.Context(), providers.ChargeRequest{OrderID: p.ID, BillingKey: key.ProviderKey, Amount: 7000, OrderName: "x"}); err != nil {
		t.Fatal(err)
	}
	// The process "died" three minutes ago.
	if _, err := b.store.Pool().Exec(t.Context(), `UPDATE payments SET updated_at = now() - interval '3 minutes' WHERE id = $1`, p.ID); err != nil {
		t.Fatal(err)
	}
	n, err := b.payments.SweepStale(t.Context())
	if err != nil || n != 1 {
		t.Fatalf("SweepStale = %d, %v", n, err)
	}
	var queued int
	if err := b.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM river_job WHERE kind = 'reconcile_payment' AND args->>'payment_id' = $1`, p.ID).Scan(&queued); err != nil || queued != 1 {
		t.Fatalf("%d jobs queued, %v", queued, err)
	}
	// A second sweep does not queue a second job for the same payment.
	if _, err := b.payments.SweepStale(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := b.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM river_job WHERE kind = 'reconcile_payment' AND args->>'payment_id' = $1`, p.ID).Scan(&queued); err != nil || queued != 1 {
		t.Fatalf("%d jobs after a second sweep", queued)
	}
	got, err := b.payments.Reconcile(t.Context(), p.ID)
	if err != nil || got.Status != billing.PaymentPaid {
		t.Fatalf("Reconcile = %s, %v", got.Status, err)
	}
}

// TestSweepFindsARefundWhoseProcessDied: the PG cancelled, the process
// died before recording it; the sweep finds the pending refund and the
// PG's cancelled total settles it.
func TestSweepFindsARefundWhoseProcessDied(t *testing.T) {
	t.Parallel()
	b := setupPaymentsWith(t, bundleOpts{noJobs: true})
	key := b.activeKey(t, "payco")
	p := b.charge(t, "p", map[string]any{"billing_key_id": key, "amount": 9000, "order_name": "x"})
	requireStatus(t, p, http.StatusCreated)
	tx, err := b.store.Pool().Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	r, err := b.store.CreateRefund(t.Context(), tx, billing.Refund{ID: billing.NewID(billing.PrefixRefund), PaymentID: p.str("id"),
		MerchantID: b.m.id, Mode: billing.ModeTest, Amount: 4000, Reason: "x", Status: billing.RefundPending, RefundableBefore: 9000})
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	client, _ := b.gateways.Iamport(mustAccount(t, b))
	if _, err := client.Cancel(t.Context(), cancelRequest(p.str("provider_payment_id"), 4000)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.store.Pool().Exec(t.Context(), `UPDATE refunds SET updated_at = now() - interval '5 minutes' WHERE id = $1`, r.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := b.payments.SweepStale(t.Context()); err != nil || n != 1 {
		t.Fatalf("SweepStale = %d, %v", n, err)
	}
	got, err := b.payments.Reconcile(t.Context(), p.str("id"))
	if err != nil || got.Status != billing.PaymentPartiallyRefunded || got.RefundedAmount != 4000 {
		t.Fatalf("Reconcile = %s %d, %v", got.Status, got.RefundedAmount, err)
	}
	if rf, _ := b.store.GetRefund(t.Context(), b.m.id, billing.ModeTest, r.ID); rf.Status != billing.RefundSucceeded {
		t.Fatalf("refund is %s", rf.Status)
	}
}
