package api

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/payments"
	"github.com/billingd/billingd/internal/providers"
	"github.com/billingd/billingd/internal/store"
)

// notify posts an Iamport notification as the PG would.
func (b *payBundle) notify(t *testing.T, body map[string]any) response {
	t.Helper()
	return b.do(t, request{method: "POST", path: "/webhooks/iamport/" + b.accountID, body: body})
}

// waitForOutcome waits until every notification of the account is processed
// and returns them.
func (b *payBundle) waitForOutcomes(t *testing.T, want int) []store.Notification {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		list := b.notifications(t)
		done := 0
		for _, n := range list {
			if n.Outcome != nil {
				done++
			}
		}
		if len(list) >= want && done == len(list) {
			return list
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d notifications processed after 15 s", done, len(list))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// setupPaidCharge makes a paid charge whose PG sends no notification, so
// a test can send its own.
func setupPaidCharge(t *testing.T) (*payBundle, response) {
	t.Helper()
	return setupPaidChargeWith(t, bundleOpts{})
}

func setupPaidChargeWith(t *testing.T, o bundleOpts) (*payBundle, response) {
	t.Helper()
	b := setupPaymentsWith(t, o)
	key := b.activeKey(t, "payco")
	b.sandbox.Iamport.SetWebhooksEnabled(false)
	p := b.charge(t, "p", map[string]any{"billing_key_id": key, "amount": 1000, "order_name": "x"})
	requireStatus(t, p, http.StatusCreated)
	return b, p
}

// notifyPaid posts Iamport's "paid" notification for payment p under impUID.
func (b *payBundle) notifyPaid(t *testing.T, p response, impUID string) {
	t.Helper()
	requireStatus(t, b.notify(t, map[string]any{"imp_uid": impUID, "merchant_uid": p.str("id"), "status": "paid"}), http.StatusOK)
}

// notifications lists the account's stored notifications, oldest first.
func (b *payBundle) notifications(t *testing.T) []store.Notification {
	t.Helper()
	list, err := b.store.NotificationsByAccount(t.Context(), b.accountID)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// exec runs SQL against billingd's database, to put it in a state the
// scenario needs.
func (b *payBundle) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	if _, err := b.store.Pool().Exec(t.Context(), sql, args...); err != nil {
		t.Fatal(err)
	}
}

// jobCount counts River jobs of a kind, in any state.
func (b *payBundle) jobCount(t *testing.T, kind string) int {
	t.Helper()
	var n int
	if err := b.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM river_job WHERE kind = $1`, kind).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (b *payBundle) paymentStatus(t *testing.T, id string) string {
	t.Helper()
	return b.do(t, request{method: "GET", path: "/v1/payments/" + id, auth: b.m.secret}).str("status")
}

func TestIamportWebhooks(t *testing.T) {
	t.Parallel()

	t.Run("SettlesALostReply", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		key := b.activeKey(t, "payco")
		// The PG records the payment, answers 500, and posts "paid" to
		// notice_url; the webhook alone settles it, after a re-fetch.
		r := b.charge(t, "lost", map[string]any{"billing_key_id": key, "amount": 3006, "order_name": "x"})
		requireStatus(t, r, http.StatusAccepted)
		list := b.waitForOutcomes(t, 1)
		if *list[0].Outcome != payments.NotificationApplied {
			t.Fatalf("outcome %s", *list[0].Outcome)
		}
		if got := b.paymentStatus(t, r.str("id")); got != "paid" {
			t.Fatalf("payment is %s after the PG's webhook", got)
		}
	})

	t.Run("DuplicateIsCountedOnce", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		key := b.activeKey(t, "payco")
		p := b.charge(t, "p", map[string]any{"billing_key_id": key, "amount": 1000, "order_name": "x"})
		b.waitForOutcomes(t, 1) // the PG's own "paid" notification
		body := map[string]any{"imp_uid": p.str("provider_payment_id"), "merchant_uid": p.str("id"), "status": "paid"}
		requireStatus(t, b.notify(t, body), http.StatusOK)
		// Form-encoded, as some consoles send it: the same notification.
		form := url.Values{"imp_uid": {p.str("provider_payment_id")}, "merchant_uid": {p.str("id")}, "status": {"paid"}}
		requireStatus(t, b.do(t, request{method: "POST", path: "/webhooks/iamport/" + b.accountID, body: form.Encode(),
			contentType: "application/x-www-form-urlencoded"}), http.StatusOK)
		list := b.waitForOutcomes(t, 1)
		if len(list) != 1 || list[0].ReceivedCount != 3 {
			t.Fatalf("notifications %d, received %d times", len(list), list[0].ReceivedCount)
		}
		if got := b.eventTypes(t, p.str("id")); len(got) != 1 {
			t.Fatalf("events %v", got)
		}
	})

	t.Run("ForgedChangesNothing", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		key := b.activeKey(t, "payco")
		p := b.charge(t, "p", map[string]any{"billing_key_id": key, "amount": 1000, "order_name": "x"})
		b.waitForOutcomes(t, 1)
		// "failed" for a paid payment, and a payment the PG never made.
		b.notify(t, map[string]any{"imp_uid": p.str("provider_payment_id"), "merchant_uid": p.str("id"), "status": "failed"})
		b.notify(t, map[string]any{"imp_uid": "imp_900000000123", "merchant_uid": p.str("id"), "status": "paid"})
		outcomes := map[string]int{}
		for _, n := range b.waitForOutcomes(t, 3) {
			outcomes[*n.Outcome]++
		}
		// The PG's own "paid" may land before or after the charge records it.
		if outcomes[payments.FlagUnknownToPG] != 1 || outcomes[payments.NotificationNoChange]+outcomes[payments.NotificationApplied] != 2 {
			t.Fatalf("outcomes %v", outcomes)
		}
		if got := b.paymentStatus(t, p.str("id")); got != "paid" {
			t.Fatalf("a forged notification moved the payment to %s", got)
		}
	})

	t.Run("AmountMismatchIsFlagged", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		key := b.activeKey(t, "payco")
		// billingd's order that never reached the PG (a proxy's 502)…
		p := b.charge(t, "p", map[string]any{"billing_key_id": key, "amount": 1007, "order_name": "x"})
		requireStatus(t, p, http.StatusAccepted)
		// …is then paid at the PG for another amount, outside billingd.
		client, _ := b.gateways.Iamport(mustAccount(t, b))
		keyRow := b.do(t, request{method: "GET", path: "/v1/billing_keys/" + key, auth: b.m.secret})
		if _, err := client.Charge(t.Context(), providers.ChargeRequest{OrderID: p.str("id"), BillingKey: keyRow.str("customer_uid"),
			Amount: 50000, OrderName: "x", NoticeURL: b.url + "/webhooks/iamport/" + b.accountID}); err != nil {
			t.Fatal(err)
		}
		list := b.waitForOutcomes(t, 1)
		if *list[0].Outcome != payments.FlagAmountMismatch {
			t.Fatalf("outcome %s", *list[0].Outcome)
		}
		if got := b.paymentStatus(t, p.str("id")); got != "unknown" {
			t.Fatalf("a mismatched amount was applied: %s", got)
		}
	})

	t.Run("LateWebhookNeverMovesBack", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		key := b.activeKey(t, "payco")
		p := b.charge(t, "p", map[string]any{"billing_key_id": key, "amount": 4000, "order_name": "x"})
		b.waitForOutcomes(t, 1)
		requireStatus(t, b.do(t, request{method: "POST", path: "/v1/payments/" + p.str("id") + "/cancel", auth: b.m.secret,
			body: map[string]any{"reason": "x"}, header: map[string]string{"Idempotency-Key": "r"}}), http.StatusCreated)
		// The original "paid" notification, delivered again late.
		lookups := b.pgCalls("GET /payments/{imp_uid}")
		b.notify(t, map[string]any{"imp_uid": p.str("provider_payment_id"), "merchant_uid": p.str("id"), "status": "paid", "cancellation_id": "late"})
		b.waitForOutcomes(t, 2)
		// It names a payment already paid (then refunded) under that
		// imp_uid: nothing to verify, no PG call.
		if n := b.pgCalls("GET /payments/{imp_uid}") - lookups; n != 0 {
			t.Fatalf("a paid hint about a known-paid payment cost %d PG lookups", n)
		}
		if got := b.paymentStatus(t, p.str("id")); got != "refunded" {
			t.Fatalf("a late paid notification moved a refunded payment to %s", got)
		}
	})

	t.Run("PaidHintAboutARecordedChargeIsDoneOnReceipt", func(t *testing.T) {
		t.Parallel()
		// Iamport notifies every paid charge. When billingd recorded the
		// PG's answer first, the notification is finished as it is stored:
		// no job, no PG lookup.
		b, p := setupPaidCharge(t)
		b.notifyPaid(t, p, p.str("provider_payment_id"))
		if list := b.notifications(t); len(list) != 1 || list[0].Outcome == nil || *list[0].Outcome != payments.NotificationNoChange ||
			list[0].PaymentID == nil || *list[0].PaymentID != p.str("id") {
			t.Fatalf("notifications %+v, want one finished as no_change for %s", list, p.str("id"))
		}
		if jobs := b.jobCount(t, "apply_pg_notification"); jobs != 0 {
			t.Fatalf("%d verification jobs, want 0", jobs)
		}
		if n := b.pgCalls("GET /payments/{imp_uid}"); n != 0 {
			t.Fatalf("%d PG lookups, want 0", n)
		}
		// A different imp_uid for the same order is not the recorded answer:
		// it is verified with the PG as ever.
		b.notifyPaid(t, p, "imp_900000000001")
		outcomes := map[string]int{}
		for _, n := range b.waitForOutcomes(t, 2) {
			outcomes[*n.Outcome]++
		}
		if outcomes[payments.FlagUnknownToPG] != 1 {
			t.Fatalf("outcomes %v", outcomes)
		}
	})

	t.Run("HintAboutAChargeInFlightIsDeferred", func(t *testing.T) {
		t.Parallel()
		// A notification that arrives before its charge recorded the PG's
		// answer waits for the notification sweep, without a job: by then
		// the charge has made it redundant (finished, no PG lookup), or it
		// is verified as ever.
		b, p := setupPaidCharge(t)
		b.exec(t, `UPDATE payments SET status = 'processing' WHERE id = $1`, p.str("id")) // the PG's answer not recorded yet
		b.notifyPaid(t, p, p.str("provider_payment_id"))
		b.notifyPaid(t, p, "imp_900000000002")
		for _, n := range b.notifications(t) {
			if n.Outcome != nil || n.VerifyAfter == nil {
				t.Fatalf("notification %s: outcome %v, verify_after %v; want deferred", n.ID, n.Outcome, n.VerifyAfter)
			}
		}
		if jobs := b.jobCount(t, "apply_pg_notification"); jobs != 0 {
			t.Fatalf("%d verification jobs for deferred notifications, want 0", jobs)
		}

		b.exec(t, `UPDATE payments SET status = 'paid' WHERE id = $1`, p.str("id")) // the charge records the answer
		b.exec(t, `UPDATE pg_notifications SET verify_after = now() - interval '1 second'`)
		if err := b.payments.SweepNotifications(t.Context()); err != nil {
			t.Fatal(err)
		}
		outcomes := map[string]string{}
		for _, n := range b.waitForOutcomes(t, 2) {
			outcomes[n.Payload["imp_uid"].(string)] = *n.Outcome
		}
		if outcomes[p.str("provider_payment_id")] != payments.NotificationNoChange || outcomes["imp_900000000002"] != payments.FlagUnknownToPG {
			t.Fatalf("outcomes %v", outcomes)
		}
		if jobs := b.jobCount(t, "apply_pg_notification"); jobs != 1 {
			t.Fatalf("%d verification jobs, want 1 (the forged hint's)", jobs)
		}
		if n := b.pgCalls("GET /payments/{imp_uid}"); n != 1 {
			t.Fatalf("%d PG lookups, want 1 (the forged hint's)", n)
		}
	})

	t.Run("BadRequests", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		requireStatus(t, b.notify(t, map[string]any{"status": "paid"}), http.StatusBadRequest)
		requireStatus(t, b.do(t, request{method: "POST", path: "/webhooks/iamport/" + b.accountID, body: "not json"}), http.StatusBadRequest)
		requireStatus(t, b.do(t, request{method: "POST", path: "/webhooks/iamport/pa_00000000000000000000000000",
			body: map[string]any{"imp_uid": "imp_1"}}), http.StatusNotFound)
		requireStatus(t, b.do(t, request{method: "POST", path: "/webhooks/bootpay/" + b.accountID,
			body: map[string]any{"receipt_id": "62b4f2f8d01c7e001f1c0a11"}}), http.StatusNotFound)
	})

	t.Run("SourceAllowList", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		requireStatus(t, b.do(t, request{method: "PATCH", path: "/admin/v1/provider_accounts/" + b.accountID, auth: testAdminToken,
			body: map[string]any{"settings": map[string]any{"webhook_allowed_ips": []any{"52.78.100.19", "203.0.113.0/24"}}}}), http.StatusOK)
		requireStatus(t, b.notify(t, map[string]any{"imp_uid": "imp_1", "status": "paid"}), http.StatusForbidden)
		requireStatus(t, b.do(t, request{method: "PATCH", path: "/admin/v1/provider_accounts/" + b.accountID, auth: testAdminToken,
			body: map[string]any{"settings": map[string]any{"webhook_allowed_ips": []any{"127.0.0.0/8"}}}}), http.StatusOK)
		requireStatus(t, b.notify(t, map[string]any{"imp_uid": "imp_1", "status": "paid"}), http.StatusOK)
	})
}
