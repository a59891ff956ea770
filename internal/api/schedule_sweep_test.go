package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/payments"
)

// TestOverdueSweepIsNotStarvedByStuckRows: a full batch of overdue
// scheduled payments the PG cannot settle (Bootpay reservations whose reply
// was lost, so billingd has no reserve_id to look them up by) must not keep
// the sweep from a newer one that the PG did run.
func TestOverdueSweepIsNotStarvedByStuckRows(t *testing.T) {
	t.Parallel()
	b := setupBootpay(t, "v2")
	key := b.key(t)
	b.sandbox.Bootpay.SetWebhooksEnabled(false) // only the sweep can settle anything
	at := time.Now().Add(2 * time.Hour).Truncate(time.Second)
	schedule := func(idem string, when time.Time) response {
		t.Helper()
		r := b.charge(t, idem, map[string]any{"billing_key_id": key, "amount": 9000, "order_name": "later",
			"scheduled_at": when.Format(time.RFC3339)})
		requireStatus(t, r, http.StatusCreated)
		return r
	}
	b.sandbox.Bootpay.LoseReserveReplies(1)
	stuck := schedule("stuck", at)
	newer := schedule("newer", at.Add(time.Hour))

	// A full batch of stuck rows, all older than the newer one.
	p, err := b.store.PaymentByID(t.Context(), stuck.str("id"))
	if err != nil {
		t.Fatal(err)
	}
	err = b.store.WithTx(t.Context(), func(tx pgx.Tx) error {
		for range payments.SweepBatch {
			clone := p
			clone.ID = billing.NewID(billing.PrefixPayment)
			if _, err := b.store.CreatePayment(t.Context(), tx, clone); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	b.advanceTo(t, at.Add(time.Hour+payments.ScheduleGrace+time.Minute))
	for range 2 { // the next two minutely sweeps
		if _, err := b.payments.SweepDueSchedules(t.Context(), billing.ModeTest); err != nil {
			t.Fatal(err)
		}
	}
	if got := b.paymentStatus(t, newer.str("id")); got != "paid" {
		t.Fatalf("the newer reservation ran at the PG but is %s: the sweep never reached it", got)
	}
	if got := b.paymentStatus(t, stuck.str("id")); got != "scheduled" {
		t.Fatalf("a reservation with no known reserve_id is %s; it must stay open until the PG's answer is known", got)
	}
}
