package api

import (
	"net/http"
	"testing"
	"time"
)

func TestScheduledPayments(t *testing.T) {
	t.Parallel()
	schedule := func(b *payBundle, t *testing.T, key, idem string, at time.Time, amount int) response {
		t.Helper()
		return b.charge(t, idem, map[string]any{"billing_key_id": key, "amount": amount, "order_name": "later",
			"scheduled_at": at.Format(time.RFC3339)})
	}

	t.Run("RunsAtThePGAndSettlesFromItsWebhook", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		key := b.activeKey(t, "payco")
		at := time.Now().Add(48 * time.Hour).Truncate(time.Second)
		r := schedule(b, t, key, "s1", at, 8000)
		requireStatus(t, r, http.StatusCreated)
		if r.str("status") != "scheduled" {
			t.Fatalf("scheduled payment %s", r.raw)
		}
		if n := b.pgCalls("POST /subscribe/payments/schedule"); n != 1 {
			t.Fatalf("%d schedule calls at the PG", n)
		}
		b.advanceTo(t, at.Add(time.Minute))
		if got := b.paymentStatus(t, r.str("id")); got != "paid" {
			t.Fatalf("after its time the payment is %s", got)
		}
		if got := b.eventTypes(t, r.str("id")); len(got) != 2 || got[0] != "payment.scheduled" || got[1] != "payment.paid" {
			t.Fatalf("events %v", got)
		}
	})

	t.Run("Unschedule", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		key := b.activeKey(t, "payco")
		at := time.Now().Add(24 * time.Hour)
		r := schedule(b, t, key, "s1", at, 8000)
		u := b.do(t, request{method: "POST", path: "/v1/payments/" + r.str("id") + "/unschedule", auth: b.m.secret})
		requireStatus(t, u, http.StatusOK)
		if u.str("status") != "canceled" {
			t.Fatalf("unscheduled %s", u.raw)
		}
		b.advanceTo(t, at.Add(time.Hour))
		if got := b.paymentStatus(t, r.str("id")); got != "canceled" {
			t.Fatalf("an unscheduled payment ran: %s", got)
		}
		if n := len(b.sandbox.Iamport.PaymentsByOrder(r.str("id"))); n != 0 {
			t.Fatalf("the PG charged an unscheduled order %d times", n)
		}
	})

	t.Run("UnscheduleRacingWithExecution", func(t *testing.T) {
		t.Parallel()
		b := setupPaymentsWith(t, bundleOpts{noJobs: true})
		key := b.activeKey(t, "payco")
		at := time.Now().Add(2 * time.Hour)
		r := schedule(b, t, key, "s1", at, 6500)
		// The PG runs it, and its webhook is lost: billingd does not know.
		b.sandbox.Iamport.SetWebhooksEnabled(false)
		b.sandbox.Iamport.Advance(at.Add(time.Second)) // the PG's clock only
		if _, err := b.sandbox.Iamport.RunDue(t.Context()); err != nil {
			t.Fatal(err)
		}
		u := b.do(t, request{method: "POST", path: "/v1/payments/" + r.str("id") + "/unschedule", auth: b.m.secret})
		requireStatus(t, u, http.StatusConflict)
		if u.errorField("code") != "payment_already_executed" || u.body["error"].(map[string]any)["payment"].(map[string]any)["status"] != "paid" {
			t.Fatalf("unschedule after the run: %s", u.raw)
		}
		if got := b.paymentStatus(t, r.str("id")); got != "paid" {
			t.Fatalf("payment is %s; the PG charged it", got)
		}
	})

	t.Run("DeletingTheKeyUnschedules", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		key := b.activeKey(t, "payco")
		r := schedule(b, t, key, "s1", time.Now().Add(24*time.Hour), 4000)
		requireStatus(t, b.do(t, request{method: "DELETE", path: "/v1/billing_keys/" + key, auth: b.m.secret}), http.StatusOK)
		if got := b.paymentStatus(t, r.str("id")); got != "canceled" {
			t.Fatalf("a deleted key's scheduled payment is %s", got)
		}
	})

	t.Run("TooSoon", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		key := b.activeKey(t, "payco")
		r := schedule(b, t, key, "s1", time.Now().Add(10*time.Second), 4000)
		requireStatus(t, r, http.StatusBadRequest)
		if r.errorField("param") != "scheduled_at" {
			t.Fatalf("error %s", r.raw)
		}
	})

	t.Run("BootpayReserve", func(t *testing.T) {
		t.Parallel()
		b := setupBootpay(t, "v2")
		key := b.key(t)
		at := time.Now().Add(72 * time.Hour).Truncate(time.Second)
		r := schedule(b.payBundle, t, key, "s1", at, 9000)
		requireStatus(t, r, http.StatusCreated)
		b.advanceTo(t, at.Add(time.Minute))
		if got := b.paymentStatus(t, r.str("id")); got != "paid" {
			t.Fatalf("reserved payment is %s after its time", got)
		}
		u := schedule(b.payBundle, t, key, "s2", at.Add(24*time.Hour), 9000)
		requireStatus(t, b.do(t, request{method: "POST", path: "/v1/payments/" + u.str("id") + "/unschedule", auth: b.m.secret}), http.StatusOK)
	})
}
