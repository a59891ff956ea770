package api

import (
	"net/http"
	"testing"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/providers"
	"github.com/billingd/billingd/internal/providers/portone"
)

func TestPortonePayments(t *testing.T) {
	t.Parallel()

	paidAttempts := func(b *portoneBundle, id string) int {
		n := 0
		for _, a := range b.sandbox.Portone.Attempts(portone.WirePaymentID(id)) {
			if a.Status != "FAILED" {
				n++
			}
		}
		return n
	}

	t.Run("ChargeUsesThePaymentIDAndRefundsWithTheChecksum", func(t *testing.T) {
		t.Parallel()
		b := setupPortone(t)
		key := b.key(t)
		// No webhooks: one verified late would tell billingd the balance
		// the stale refund below must not know.
		b.sandbox.Portone.SetWebhooksEnabled(false)
		p := b.charge(t, "po-1", map[string]any{"billing_key_id": key, "amount": 15000, "order_name": "정기결제"})
		requireStatus(t, p, http.StatusCreated)
		id := p.str("id")
		if p.str("status") != "paid" || p.str("provider_payment_id") != id {
			t.Fatalf("payment %s", p.raw)
		}
		if n := paidAttempts(b, id); n != 1 {
			t.Fatalf("the PG has %d paid attempts for %s", n, id)
		}
		// KPN and KCP take letters and digits only: PortOne saw "pay" + the 26.
		if wire := portone.WirePaymentID(id); wire != "pay"+id[len("pay_"):] || len(b.sandbox.Portone.Attempts(id)) != 0 {
			t.Fatalf("paymentId on the wire %q", wire)
		}
		r := b.do(t, request{method: "POST", path: "/v1/payments/" + id + "/cancel", auth: b.m.secret,
			body: map[string]any{"amount": 5000, "reason": "partial"}, header: map[string]string{"Idempotency-Key": "po-r1"}})
		requireStatus(t, r, http.StatusCreated)
		if r.body["payment"].(map[string]any)["status"] != "partially_refunded" {
			t.Fatalf("refund %s", r.raw)
		}
		// Someone cancels 1,000 at the PG behind billingd's back: billingd
		// believes 10,000 is left, the PG 9,000. The checksum makes the PG
		// refuse billingd's refund instead of cancelling from a
		// balance billingd does not know.
		client, _ := b.gateways.Portone(mustAccount(t, b.payBundle))
		if _, err := client.Cancel(t.Context(), providers.CancelRequest{OrderID: id, Amount: 1000, Refundable: 10000, Reason: "console"}); err != nil {
			t.Fatal(err)
		}
		rest := b.do(t, request{method: "POST", path: "/v1/payments/" + id + "/cancel", auth: b.m.secret,
			body: map[string]any{"amount": 5000, "reason": "stale"}, header: map[string]string{"Idempotency-Key": "po-r2"}})
		if rest.status == http.StatusCreated && rest.str("status") == "succeeded" {
			t.Fatalf("a refund against a stale balance went through: %s", rest.raw)
		}
		if got := b.sandbox.Portone.Attempts(portone.WirePaymentID(id)); len(got) != 1 || got[0].Status != "PARTIAL_CANCELLED" {
			t.Fatalf("the PG shows %+v", got)
		}
	})

	t.Run("Declined", func(t *testing.T) {
		t.Parallel()
		b := setupPortone(t)
		key := b.key(t)
		r := b.charge(t, "po-d", map[string]any{"billing_key_id": key, "amount": 15004, "order_name": "x"})
		requireStatus(t, r, http.StatusPaymentRequired)
		if code := r.errorField("provider_code"); code != "51" {
			t.Fatalf("decline %s", r.raw)
		}
	})

	t.Run("UnknownIsReconciledByLookup", func(t *testing.T) {
		t.Parallel()
		b := setupPortoneWith(t, bundleOpts{noJobs: true})
		key := b.key(t)
		b.sandbox.Portone.SetWebhooksEnabled(false)
		for _, amount := range []int{15006, 15008} { // 500 after paying; a garbled reply
			r := b.charge(t, "po-u"+string(rune('0'+amount%10)), map[string]any{"billing_key_id": key, "amount": amount, "order_name": "x"})
			requireStatus(t, r, http.StatusAccepted)
			if r.str("status") != "unknown" {
				t.Fatalf("charge of %d: %s", amount, r.raw)
			}
			p, err := b.payments.Reconcile(t.Context(), r.str("id"))
			if err != nil {
				t.Fatal(err)
			}
			if p.Status != billing.PaymentPaid || paidAttempts(b, r.str("id")) != 1 {
				t.Fatalf("reconciled to %s with %d paid attempts", p.Status, paidAttempts(b, r.str("id")))
			}
		}
	})

	t.Run("AnUnknownStatusStaysUnsettled", func(t *testing.T) {
		t.Parallel()
		b := setupPortoneWith(t, bundleOpts{noJobs: true})
		key := b.key(t)
		b.sandbox.Portone.SetWebhooksEnabled(false)
		r := b.charge(t, "po-x", map[string]any{"billing_key_id": key, "amount": 15006, "order_name": "x"})
		requireStatus(t, r, http.StatusAccepted)
		b.sandbox.Portone.SetPaymentStatus(portone.WirePaymentID(r.str("id")), "SOMETHING_NEW")
		// Whatever reconcile says (it keeps trying), the payment must not settle.
		_, _ = b.payments.Reconcile(t.Context(), r.str("id"))
		if got := b.paymentStatus(t, r.str("id")); got != "unknown" {
			t.Fatalf("a payment the PG reports in an unknown status became %s", got)
		}
	})

	t.Run("AlreadyPaidOnARetryIsSettledByTheLookup", func(t *testing.T) {
		t.Parallel()
		b := setupPortone(t)
		keyID := b.key(t)
		key := mustKey(t, b.payBundle, keyID)
		p := b.charge(t, "po-a", map[string]any{"billing_key_id": keyID, "amount": 12000, "order_name": "x"})
		requireStatus(t, p, http.StatusCreated)
		// The same order sent again (as after a lost reply): PortOne answers
		// 409 ALREADY_PAID, and the adapter billingd wired settles it from
		// the payment itself — paid, once.
		client, _ := b.gateways.For(mustAccount(t, b.payBundle))
		got, err := client.Charge(t.Context(), providers.ChargeRequest{OrderID: p.str("id"), BillingKey: key.ProviderKey, Amount: 12000, OrderName: "x"})
		if err != nil || got.Status != providers.StatusPaid {
			t.Fatalf("retry: %+v %v", got, err)
		}
		// A different amount under the same id is not "ours": unknown, not paid.
		if _, err := client.Charge(t.Context(), providers.ChargeRequest{OrderID: p.str("id"), BillingKey: key.ProviderKey, Amount: 13000, OrderName: "x"}); err == nil {
			t.Fatal("ALREADY_PAID for another amount was taken as paid")
		}
		if n := paidAttempts(b, p.str("id")); n != 1 {
			t.Fatalf("%d paid attempts", n)
		}
		// billingd's own retry (same Idempotency-Key) replays, asking the PG nothing.
		before := b.sandbox.Portone.Calls("POST /payments/{paymentId}/billing-key")
		again := b.charge(t, "po-a", map[string]any{"billing_key_id": keyID, "amount": 12000, "order_name": "x"})
		if again.str("id") != p.str("id") || b.sandbox.Portone.Calls("POST /payments/{paymentId}/billing-key") != before {
			t.Fatalf("the retry charged again: %s", again.raw)
		}
	})
}
