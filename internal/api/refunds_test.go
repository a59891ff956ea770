package api

import (
	"net/http"
	"slices"
	"testing"
)

func TestRefund(t *testing.T) {
	t.Parallel()
	refund := func(b *payBundle, t *testing.T, key, paymentID string, body map[string]any) response {
		t.Helper()
		return b.do(t, request{method: "POST", path: "/v1/payments/" + paymentID + "/cancel", auth: b.m.secret, body: body,
			header: map[string]string{"Idempotency-Key": key}})
	}

	t.Run("PartialThenFull", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		key := b.activeKey(t, "payco")
		p := b.charge(t, "p", map[string]any{"billing_key_id": key, "amount": 10000, "order_name": "x"})
		requireStatus(t, p, http.StatusCreated)
		id := p.str("id")

		part := refund(b, t, "r1", id, map[string]any{"amount": 3000, "reason": "one item returned"})
		requireStatus(t, part, http.StatusCreated)
		pay := part.body["payment"].(map[string]any)
		if part.str("status") != "succeeded" || pay["status"] != "partially_refunded" || pay["refunded_amount"] != float64(3000) {
			t.Fatalf("partial refund %s", part.raw)
		}
		tooMuch := refund(b, t, "r2", id, map[string]any{"amount": 7001, "reason": "x"})
		requireStatus(t, tooMuch, http.StatusBadRequest)

		rest := refund(b, t, "r3", id, map[string]any{"reason": "cancel the rest"})
		requireStatus(t, rest, http.StatusCreated)
		if rest.str("status") != "succeeded" || rest.body["amount"] != float64(7000) || rest.body["payment"].(map[string]any)["status"] != "refunded" {
			t.Fatalf("full refund %s", rest.raw)
		}
		pg, _ := b.sandbox.Iamport.Payment(p.str("provider_payment_id"))
		if pg.CancelAmount != 10000 || pg.Status != "cancelled" {
			t.Fatalf("the PG shows %+v", pg)
		}
		again := refund(b, t, "r4", id, map[string]any{"reason": "again"})
		requireStatus(t, again, http.StatusConflict)

		got := b.do(t, request{method: "GET", path: "/v1/payments/" + id, auth: b.m.secret})
		if refunds := got.body["refunds"].([]any); len(refunds) != 2 {
			t.Fatalf("payment lists %d refunds", len(refunds))
		}
		if types := b.eventTypes(t, id); !slices.Equal(types, []string{"payment.paid", "payment.refunded", "payment.refunded"}) {
			t.Fatalf("payment events %v", types)
		}
		if types := b.eventTypes(t, part.str("id")); !slices.Equal(types, []string{"refund.succeeded"}) {
			t.Fatalf("refund events %v", types)
		}
	})

	t.Run("ReplayedRefundRefundsOnce", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		key := b.activeKey(t, "payco")
		p := b.charge(t, "p", map[string]any{"billing_key_id": key, "amount": 5000, "order_name": "x"})
		first := refund(b, t, "same", p.str("id"), map[string]any{"amount": 1000, "reason": "x"})
		second := refund(b, t, "same", p.str("id"), map[string]any{"amount": 1000, "reason": "x"})
		requireStatus(t, second, http.StatusCreated)
		if second.header.Get("Idempotent-Replayed") != "true" || second.str("id") != first.str("id") {
			t.Fatalf("replay %s", second.raw)
		}
		if n := b.pgCalls("POST /payments/cancel"); n != 1 {
			t.Fatalf("%d cancels at the PG", n)
		}
	})

	t.Run("UnknownPaymentIsReconciledFirst", func(t *testing.T) {
		t.Parallel()
		b := setupPaymentsWith(t, bundleOpts{noJobs: true})
		key := b.activeKey(t, "payco")
		p := b.charge(t, "p", map[string]any{"billing_key_id": key, "amount": 2006, "order_name": "x"})
		requireStatus(t, p, http.StatusAccepted)
		r := refund(b, t, "r", p.str("id"), map[string]any{"reason": "changed my mind"})
		requireStatus(t, r, http.StatusCreated)
		if r.body["payment"].(map[string]any)["status"] != "refunded" {
			t.Fatalf("refund of an unknown payment %s", r.raw)
		}
	})

	t.Run("NotRefundable", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		key := b.activeKey(t, "payco")
		declined := b.charge(t, "p", map[string]any{"billing_key_id": key, "amount": 1004, "order_name": "x"})
		id := declined.body["error"].(map[string]any)["payment"].(map[string]any)["id"].(string)
		requireStatus(t, refund(b, t, "r", id, map[string]any{"reason": "x"}), http.StatusConflict)
		requireStatus(t, refund(b, t, "r2", "pay_00000000000000000000000000", map[string]any{"reason": "x"}), http.StatusNotFound)
		requireStatus(t, refund(b, t, "r3", id, map[string]any{}), http.StatusBadRequest)
	})

	t.Run("ChecksumStopsAStaleView", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		key := b.activeKey(t, "payco")
		p := b.charge(t, "p", map[string]any{"billing_key_id": key, "amount": 8000, "order_name": "x"})
		// Someone refunds 1,000 in the PG's console; billingd does not know.
		console, err := b.gateways.Iamport(mustAccount(t, b))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := console.Cancel(t.Context(), cancelRequest(p.str("provider_payment_id"), 1000)); err != nil {
			t.Fatal(err)
		}
		r := refund(b, t, "r", p.str("id"), map[string]any{"amount": 2000, "reason": "x"})
		requireStatus(t, r, http.StatusBadGateway)
		if r.body["error"].(map[string]any)["refund"].(map[string]any)["status"] != "failed" {
			t.Fatalf("refund with a stale balance %s", r.raw)
		}
		pg, _ := b.sandbox.Iamport.Payment(p.str("provider_payment_id"))
		if pg.CancelAmount != 1000 {
			t.Fatalf("the PG cancelled %d, want only the console's 1000", pg.CancelAmount)
		}
	})
}
