package api

import (
	"net"
	"net/http"
	"slices"
	"testing"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/payments"
)

// failLost plays a charge whose answer was lost (6: paid at the PG, then
// a 500) while the PG's lookup by order id claims it has no such order:
// after the grace period reconciliation records it failed. (learnPaid
// then has the PG's webhook arrive and its API, asked by imp_uid, say paid.)
func (b *payBundle) failLost(t *testing.T, paymentID string) {
	t.Helper()
	b.sandbox.Iamport.SetFindFailure(http.StatusNotFound)
	if _, err := b.store.Pool().Exec(t.Context(), `UPDATE payments SET created_at = now() - interval '11 minutes' WHERE id = $1`, paymentID); err != nil {
		t.Fatal(err)
	}
	if p, err := b.payments.Reconcile(t.Context(), paymentID); err != nil || p.Status != billing.PaymentFailed {
		t.Fatalf("Reconcile = %s, %v", p.Status, err)
	}
	b.sandbox.Iamport.SetFindFailure(0)
}

// learnPaid delivers the PG's paid webhook of a payment and verifies it.
func (b *payBundle) learnPaid(t *testing.T, paymentID string) {
	t.Helper()
	attempts := b.sandbox.Iamport.PaymentsByOrder(paymentID)
	if len(attempts) != 1 || attempts[0].Status != "paid" {
		t.Fatalf("the PG holds %+v", attempts)
	}
	imp := attempts[0].ImpUID
	_, err := b.payments.ReceiveNotification(t.Context(), "iamport", b.accountID, net.IPv4(127, 0, 0, 1), payments.Notification{
		ProviderID: imp, DedupeKey: imp + ":paid", Payload: map[string]any{"imp_uid": imp, "merchant_uid": paymentID, "status": "paid"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.payments.ApplyPendingNotifications(t.Context(), billing.ModeTest); err != nil {
		t.Fatal(err)
	}
}

// requireRecovered checks that a payment is paid and that its last event
// is a payment.paid saying it was recovered from failed.
func (b *payBundle) requireRecovered(t *testing.T, paymentID string) map[string]any {
	t.Helper()
	if got := b.paymentStatus(t, paymentID); got != "paid" {
		t.Fatalf("the PG says paid, billingd says %s", got)
	}
	events, err := b.store.EventsFor(t.Context(), b.m.id, billing.ModeTest, paymentID)
	if err != nil || len(events) == 0 {
		t.Fatalf("events %v, %v", events, err)
	}
	last := events[len(events)-1]
	data, _ := last.Data.(map[string]any)
	if last.Type != billing.EventPaymentPaid || data["recovered_from"] != "failed" || data["status"] != "paid" {
		t.Fatalf("last event %s %v", last.Type, data)
	}
	return data
}

// TestFailedPaymentRecoveredWhenThePGSaysPaid: a payment recorded as
// failed that the PG's own API reports paid is recorded paid, with an
// event that shows the correction; a subscription period it pays is
// treated as paid.
func TestFailedPaymentRecoveredWhenThePGSaysPaid(t *testing.T) {
	t.Parallel()

	t.Run("Payment", func(t *testing.T) {
		t.Parallel()
		b := setupPaymentsWith(t, bundleOpts{noJobs: true})
		b.sandbox.Iamport.SetWebhooksEnabled(false)
		key := b.activeKey(t, "payco")
		r := b.charge(t, "lost", map[string]any{"billing_key_id": key, "amount": 4006, "order_name": "x"})
		requireStatus(t, r, http.StatusAccepted)
		b.failLost(t, r.str("id"))
		b.learnPaid(t, r.str("id"))
		b.requireRecovered(t, r.str("id"))
		if got := b.eventTypes(t, r.str("id")); len(got) != 3 || got[0] != "payment.unknown" || got[1] != "payment.failed" {
			t.Fatalf("events %v", got)
		}
		// Monotonic otherwise: the PG's paid answer again changes nothing.
		if _, err := b.payments.Reconcile(t.Context(), r.str("id")); err != nil {
			t.Fatal(err)
		}
		if got := b.eventTypes(t, r.str("id")); len(got) != 3 {
			t.Fatalf("events after a repeated answer %v", got)
		}
	})

	t.Run("SubscriptionPeriod", func(t *testing.T) {
		t.Parallel()
		b := setupPaymentsWith(t, bundleOpts{noJobs: true})
		b.sandbox.Iamport.SetWebhooksEnabled(false)
		b.activeKey(t, "payco")
		sub := b.subscribe(t, "s1", map[string]any{"amount": 9006, "order_name": "Pro plan", "interval": "month"})
		id := sub.str("id")
		p := sub.body["latest_payment"].(map[string]any)["id"].(string)
		b.failLost(t, p)
		b.learnPaid(t, p)
		b.requireRecovered(t, p)
		if got := b.subscription(t, id); got.str("status") != "active" {
			t.Fatalf("the period is paid, the subscription %s", got.raw)
		}
		// Dunning began on the failure and ended on the recovery.
		if got := b.eventTypes(t, id); !slices.Equal(got, []string{"subscription.created", "subscription.past_due", "subscription.renewed"}) {
			t.Fatalf("subscription events %v", got)
		}
	})
	t.Run("PeriodBilledAgainMeanwhile", func(t *testing.T) {
		t.Parallel()
		b := setupPaymentsWith(t, bundleOpts{noJobs: true})
		b.sandbox.Iamport.SetWebhooksEnabled(false)
		key := b.activeKey(t, "payco")
		sub := b.subscribe(t, "s1", map[string]any{"amount": 9006, "order_name": "Pro plan", "interval": "month"})
		id := sub.str("id")
		first := sub.body["latest_payment"].(map[string]any)
		b.failLost(t, first["id"].(string))
		// A dunning retry of the same period went through meanwhile.
		retry := b.storedPayment(t, key, 9006, billing.PaymentPaid)
		if _, err := b.store.Pool().Exec(t.Context(), `UPDATE payments SET subscription_id = $2, period = 0, period_start = $3 WHERE id = $1`,
			retry.ID, id, first["period_start"]); err != nil {
			t.Fatal(err)
		}
		b.learnPaid(t, first["id"].(string))
		data := b.requireRecovered(t, first["id"].(string))
		if data["period_billed_twice"] != true {
			t.Fatalf("the recovery does not say the period is paid twice: %v", data)
		}
	})
}
