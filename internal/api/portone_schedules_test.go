package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/providers/portone"
)

func TestPortoneSchedules(t *testing.T) {
	t.Parallel()

	t.Run("ScheduledPaymentRunsAtThePG", func(t *testing.T) {
		t.Parallel()
		b := setupPortone(t)
		key := b.key(t)
		at := time.Now().Add(48 * time.Hour).Truncate(time.Second)
		r := b.charge(t, "s1", map[string]any{"billing_key_id": key, "amount": 8000, "order_name": "later",
			"scheduled_at": at.Format(time.RFC3339)})
		requireStatus(t, r, http.StatusCreated)
		if r.str("status") != "scheduled" || b.sandbox.Portone.Calls("POST /payments/{paymentId}/schedule") != 1 {
			t.Fatalf("scheduled payment %s", r.raw)
		}
		b.advanceTo(t, at.Add(time.Minute))
		if got := b.paymentStatus(t, r.str("id")); got != "paid" {
			t.Fatalf("after its time the payment is %s", got)
		}
		if n := len(b.sandbox.Portone.Attempts(portone.WirePaymentID(r.str("id")))); n != 1 {
			t.Fatalf("%d attempts at the PG", n)
		}
	})

	t.Run("UnscheduleRevokesAtThePG", func(t *testing.T) {
		t.Parallel()
		b := setupPortone(t)
		key := b.key(t)
		at := time.Now().Add(24 * time.Hour)
		r := b.charge(t, "s1", map[string]any{"billing_key_id": key, "amount": 8000, "order_name": "later",
			"scheduled_at": at.Format(time.RFC3339)})
		requireStatus(t, r, http.StatusCreated)
		u := b.do(t, request{method: "POST", path: "/v1/payments/" + r.str("id") + "/unschedule", auth: b.m.secret})
		requireStatus(t, u, http.StatusOK)
		if b.sandbox.Portone.Calls("DELETE /payment-schedules") == 0 {
			t.Fatal("the schedule was not revoked at the PG")
		}
		b.advanceTo(t, at.Add(time.Hour))
		if n := len(b.sandbox.Portone.Attempts(portone.WirePaymentID(r.str("id")))); n != 0 || b.paymentStatus(t, r.str("id")) != "canceled" {
			t.Fatalf("an unscheduled payment ran %d times", n)
		}
	})

	t.Run("SubscriptionRenewsThenCancelRevokes", func(t *testing.T) {
		t.Parallel()
		b := setupPortone(t)
		b.key(t)
		r := b.subscribe(t, "sub", map[string]any{"amount": 9900, "order_name": "Pro plan", "interval": "month"})
		if r.str("status") != "active" || r.body["latest_payment"].(map[string]any)["status"] != "paid" {
			t.Fatalf("subscription %s", r.raw)
		}
		id := r.str("id")
		waitScheduled(t, b.payBundle, id, 1)
		b.waitPGSchedule(t, id, "scheduled")
		anchor, _ := time.Parse(time.RFC3339, r.str("anchor"))
		b.advanceTo(t, anchor.In(seoul).AddDate(0, 1, 0).Add(time.Hour))
		sub := b.subscription(t, id)
		if sub.str("status") != "active" || sub.body["current_period"] != float64(1) {
			t.Fatalf("after the renewal: %s", sub.raw)
		}
		waitScheduled(t, b.payBundle, id, 2)
		b.waitPGSchedule(t, id, "scheduled")
		ps := b.periodPayments(t, id)
		next := ps[len(ps)-1]["id"].(string)
		c := b.do(t, request{method: "POST", path: "/v1/subscriptions/" + id + "/cancel", auth: b.m.secret, body: map[string]any{}})
		requireStatus(t, c, http.StatusOK)
		b.waitPayment(t, next, "canceled")
		b.advanceTo(t, anchor.In(seoul).AddDate(0, 2, 1))
		if n := len(b.sandbox.Portone.Attempts(portone.WirePaymentID(next))); n != 0 {
			t.Fatalf("the PG charged a canceled subscription %d times", n)
		}
	})

	t.Run("ADeclinedRenewalGoesToDunning", func(t *testing.T) {
		t.Parallel()
		b := setupPortone(t)
		b.key(t)
		// The sandbox declines amounts ending in 4, here when PortOne runs the schedule.
		start := time.Now().Add(72 * time.Hour).Truncate(time.Second)
		r := b.subscribe(t, "sub", map[string]any{"amount": 9904, "order_name": "x", "interval": "month",
			"start": start.Format(time.RFC3339)})
		if p := r.body["latest_payment"].(map[string]any); p["status"] != "scheduled" {
			t.Fatalf("a future start should be scheduled at the PG: %v", p)
		}
		b.advanceTo(t, start.Add(time.Hour))
		sub := b.subscription(t, r.str("id"))
		if sub.str("status") != "past_due" || sub.body["next_retry_at"] == nil {
			t.Fatalf("after a declined run: %s", sub.raw)
		}
	})

	t.Run("DeletingAKeyRevokesItsSchedulesFirst", func(t *testing.T) {
		t.Parallel()
		b := setupPortone(t)
		key := b.key(t)
		at := time.Now().Add(24 * time.Hour)
		r := b.charge(t, "s1", map[string]any{"billing_key_id": key, "amount": 8000, "order_name": "later",
			"scheduled_at": at.Format(time.RFC3339)})
		requireStatus(t, r, http.StatusCreated)
		// PortOne refuses to delete a key with schedules: billingd revokes them first.
		d := b.do(t, request{method: "DELETE", path: "/v1/billing_keys/" + key, auth: b.m.secret})
		requireStatus(t, d, http.StatusOK)
		if got := b.paymentStatus(t, r.str("id")); got != "canceled" {
			t.Fatalf("the scheduled payment is %s", got)
		}
	})
}
