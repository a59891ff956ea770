package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/payments"
)

// postNotification posts an Iamport notification from a goroutine (no
// t.Fatal there) and returns the status.
func (b *payBundle) postNotification(t *testing.T, body map[string]any, header map[string]string) int {
	enc, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(t.Context(), "POST", b.url+"/webhooks/iamport/"+b.accountID, bytes.NewReader(enc))
	if err != nil {
		t.Error(err)
		return 0
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		t.Error(err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestWebhookFlood floods one account's Iamport webhook with made-up
// payment ids while the merchant charges, and checks what the flood could
// cost: PG look-ups (counted by the sandbox) and stored rows stay within
// the account's limits, and neither the merchant's charge nor the real
// notifications about its payments are held up.
func TestWebhookFlood(t *testing.T) {
	t.Parallel()
	limits := payments.NotificationLimits{Window: time.Hour, PerPayment: 3, Lookups: 5, Stored: 40}
	b := setupPaymentsWith(t, bundleOpts{notificationLimits: limits})
	key := b.activeKey(t, "payco")
	paid := b.charge(t, "before", map[string]any{"billing_key_id": key, "amount": 1000, "order_name": "x"})
	requireStatus(t, paid, http.StatusCreated)
	b.waitForOutcomes(t, 1) // the PG's own notification of it
	const lookup = "GET /payments/{imp_uid}"
	lookupsBefore := b.pgCalls(lookup)
	started := time.Now()

	const senders, perSender = 8, 50 // 400 made-up notifications
	var (
		mu     sync.Mutex
		status = map[int]int{}
		wg     sync.WaitGroup
	)
	for g := range senders {
		wg.Go(func() {
			for i := range perSender {
				n := g*perSender + i
				body := map[string]any{"imp_uid": fmt.Sprintf("imp_7%011d", n), "status": "paid"}
				switch n % 4 {
				case 0: // an order billingd never made
					body["merchant_uid"] = fmt.Sprintf("pay_flood%021d", n)
				case 1: // a real order under a made-up imp_uid
					body["merchant_uid"] = paid.str("id")
				case 2: // the real payment, "cancelled" over and over
					body = map[string]any{"imp_uid": paid.str("provider_payment_id"), "merchant_uid": paid.str("id"),
						"status": "cancelled", "cancellation_id": fmt.Sprintf("flood%d", n)}
				}
				code := b.postNotification(t, body, nil)
				mu.Lock()
				status[code]++
				mu.Unlock()
			}
		})
	}
	// The merchant charges during the flood: the PG records it, answers
	// 500 and notifies; only that notification can make it paid in time
	// (reconciliation waits a minute).
	lost := b.charge(t, "during", map[string]any{"billing_key_id": key, "amount": 3006, "order_name": "x"})
	requireStatus(t, lost, http.StatusAccepted)
	requireStatus(t, b.do(t, request{method: "GET", path: "/v1/payments/" + paid.str("id"), auth: b.m.secret}), http.StatusOK)
	wg.Wait()
	windows := 1
	if !started.Truncate(limits.Window).Equal(time.Now().Truncate(limits.Window)) {
		windows = 2 // the flood straddled a window boundary
	}

	if status[http.StatusOK]+status[http.StatusTooManyRequests] != senders*perSender || status[http.StatusTooManyRequests] == 0 {
		t.Fatalf("answers %v: want only 200 and 429, and 429 once over the cap", status)
	}
	var flood, real int
	outcomes := map[string]int{}
	deadline := time.Now().Add(20 * time.Second)
	for {
		list := b.notifications(t)
		flood, real, outcomes = 0, 0, map[string]int{}
		pending := 0
		for _, n := range list {
			if cancel, _ := n.Payload["cancellation_id"].(string); strings.HasPrefix(n.Payload["imp_uid"].(string), "imp_7") || strings.HasPrefix(cancel, "flood") {
				flood++
			} else {
				real++
			}
			if n.Outcome == nil {
				pending++
				continue
			}
			outcomes[*n.Outcome]++
		}
		if pending == 0 && b.paymentStatus(t, lost.str("id")) == "paid" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20 s: %d notifications pending, the charge during the flood is %s", pending, b.paymentStatus(t, lost.str("id")))
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Per window: the account's share for what billingd does not know,
	// and the per-payment share of the one real payment flooded.
	maxStored, maxLookups := windows*(limits.Stored+limits.PerPayment), windows*(limits.Lookups+limits.PerPayment)
	if flood > maxStored || flood != status[http.StatusOK] {
		t.Errorf("%d made-up notifications stored (%d answered 200), want at most %d", flood, status[http.StatusOK], maxStored)
	}
	if n := b.pgCalls(lookup) - lookupsBefore; n > maxLookups+real {
		t.Errorf("%d PG look-ups, want at most %d for the flood and %d for real notifications", n, maxLookups, real)
	}
	if outcomes[payments.FlagNotVerified] == 0 {
		t.Errorf("outcomes %v", outcomes)
	}
	if jobs := b.jobCount(t, "apply_pg_notification"); jobs > maxLookups+real {
		t.Errorf("%d verification jobs", jobs)
	}
	var elsewhere int
	if err := b.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM river_job WHERE kind = 'apply_pg_notification' AND queue <> $1`,
		payments.NotificationQueue).Scan(&elsewhere); err != nil || elsewhere != 0 {
		t.Errorf("%d verification jobs outside their own queue (%v)", elsewhere, err)
	}
	t.Logf("answers %v; %d made-up notifications stored, %d real; outcomes %v; %d PG look-ups",
		status, flood, real, outcomes, b.pgCalls(lookup)-lookupsBefore)
}

// TestWebhookRateLimitPerSource: one address over the rate is refused
// without storing anything, while the PG's own address is still heard.
func TestWebhookRateLimitPerSource(t *testing.T) {
	t.Parallel()
	b := setupPaymentsWith(t, bundleOpts{webhookRateLimit: 5, trustedProxies: []string{"127.0.0.0/8"}})
	attacker := map[string]string{"X-Forwarded-For": "203.0.113.9"}
	status := map[int]int{}
	for i := range 30 {
		status[b.postNotification(t, map[string]any{"imp_uid": fmt.Sprintf("imp_8%011d", i), "status": "paid"}, attacker)]++
	}
	if status[http.StatusTooManyRequests] == 0 || status[http.StatusOK]+status[http.StatusTooManyRequests] != 30 {
		t.Fatalf("answers %v: want 429 once over 5 a minute", status)
	}
	if n := len(b.notifications(t)); n != status[http.StatusOK] {
		t.Fatalf("%d notifications stored for %d accepted", n, status[http.StatusOK])
	}
	pg := map[string]string{"X-Forwarded-For": "52.78.100.19"}
	if code := b.postNotification(t, map[string]any{"imp_uid": "imp_900000000001", "status": "paid"}, pg); code != http.StatusOK {
		t.Fatalf("the PG's address got %d while another address was limited", code)
	}
}

// TestWebhookPaymentIDShape: ids that cannot be the PG's are refused
// before they cost a row, a job or a PG call.
func TestWebhookPaymentIDShape(t *testing.T) {
	t.Parallel()
	b := setupPayments(t)
	for _, id := range []string{"", "x", "imp_", "imp_12ab", "imp_forged_1", "IMP_123", "imp_1234567890123456789012345", "imp_1\n"} {
		r := b.notify(t, map[string]any{"imp_uid": id, "status": "paid"})
		if r.status != http.StatusBadRequest || r.errorField("param") != "imp_uid" {
			t.Errorf("imp_uid %q: %d %s", id, r.status, r.raw)
		}
	}
	bootpay := setupBootpay(t, "v2")
	for _, id := range []string{"", "rcpt_unknown", "62b4f2f8d01c7e001f1c0a1", "62b4f2f8d01c7e001f1c0a11f", "62b4f2f8d01c7e001f1c0g11"} {
		r := bootpay.do(t, request{method: "POST", path: "/webhooks/bootpay/" + bootpay.accountID,
			body: map[string]any{"receipt_id": id, "order_id": "pay_x", "status": 1, "webhook_type": "PAYMENT_COMPLETE"}})
		if r.status != http.StatusBadRequest {
			t.Errorf("receipt_id %q: %d %s", id, r.status, r.raw)
		}
	}
	if n := len(b.notifications(t)) + len(bootpay.notifications(t)); n != 0 {
		t.Fatalf("%d notifications stored", n)
	}
	if n := b.pgCalls("GET /payments/{imp_uid}"); n != 0 {
		t.Fatalf("%d PG look-ups", n)
	}
	// The shapes the PGs use are accepted.
	requireStatus(t, b.notify(t, map[string]any{"imp_uid": "imp_448280090638", "status": "paid"}), http.StatusOK)
	requireStatus(t, b.notify(t, map[string]any{"imp_uid": "imps_000000000001", "status": "paid"}), http.StatusOK)
	requireStatus(t, bootpay.do(t, request{method: "POST", path: "/webhooks/bootpay/" + bootpay.accountID,
		body: map[string]any{"receipt_id": "62b4f2f8d01c7e001f1c0a11", "order_id": "pay_x", "status": 1, "webhook_type": "PAYMENT_COMPLETE"}}), http.StatusOK)
}

// TestDeferredFloodIsBounded: "paid" hints about a charge still waiting
// for the PG's answer are deferred without a job at receipt; made-up ones
// in numbers still cost no more PG calls than the limits allow when the
// sweep hands them on.
func TestDeferredFloodIsBounded(t *testing.T) {
	t.Parallel()
	limits := payments.NotificationLimits{Window: time.Hour, PerPayment: 3, Lookups: 5, Stored: 40}
	b, p := setupPaidChargeWith(t, bundleOpts{notificationLimits: limits})
	b.exec(t, `UPDATE payments SET status = 'processing', provider_payment_id = NULL WHERE id = $1`, p.str("id")) // a charge in flight
	started := time.Now()
	const sent = 60
	for i := range sent {
		b.notifyPaid(t, p, fmt.Sprintf("imp_6%011d", i))
	}
	b.exec(t, `UPDATE pg_notifications SET verify_after = now() - interval '1 second'`)
	if err := b.payments.SweepNotifications(t.Context()); err != nil {
		t.Fatal(err)
	}
	list := b.waitForOutcomes(t, sent)
	windows := 1
	if !started.Truncate(limits.Window).Equal(time.Now().Truncate(limits.Window)) {
		windows = 2
	}
	outcomes := map[string]int{}
	for _, n := range list {
		outcomes[*n.Outcome]++
	}
	maxLookups := windows * (limits.PerPayment + limits.Lookups)
	if n := b.pgCalls("GET /payments/{imp_uid}"); n > maxLookups {
		t.Errorf("%d PG look-ups for %d made-up hints, want at most %d; outcomes %v", n, sent, maxLookups, outcomes)
	}
	if outcomes[payments.FlagNotVerified] < sent-maxLookups || outcomes[payments.FlagUnknownToPG] > maxLookups {
		t.Errorf("outcomes %v", outcomes)
	}
}

// TestWebhooksHoldFewConnections: notifications stuck in the database
// hold at most WebhookConcurrency connections; the rest are refused after
// a short wait instead of queueing for the pool, and the merchant API
// answers meanwhile.
func TestWebhooksHoldFewConnections(t *testing.T) {
	t.Parallel()
	b := setupPaymentsWith(t, bundleOpts{webhookConcurrency: 2, webhookSlotWait: 2 * time.Second})
	// Stall every receipt that counts a notification.
	tx, err := b.store.Pool().Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(t.Context(), `LOCK TABLE pg_notification_windows IN EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	const sent = 8
	codes := make(chan int, sent)
	for i := range sent {
		go func() {
			codes <- b.postNotification(t, map[string]any{"imp_uid": fmt.Sprintf("imp_5%011d", i), "status": "paid"}, nil)
		}()
	}
	status := map[int]int{}
	timeout := time.After(15 * time.Second)
	for range sent - 2 {
		select {
		case code := <-codes:
			status[code]++
		case <-timeout:
			t.Fatalf("after 15 s only %v answered: every receipt is waiting on the database", status)
		}
	}
	if status[http.StatusTooManyRequests] != sent-2 {
		t.Fatalf("answers while 2 receipts are stuck: %v, want %d refused", status, sent-2)
	}
	requireStatus(t, b.do(t, request{method: "GET", path: "/v1/customers/" + b.customer, auth: b.m.secret}), http.StatusOK)
	if err := tx.Rollback(t.Context()); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		status[<-codes]++
	}
	if status[http.StatusOK] != 2 {
		t.Fatalf("answers %v: the 2 stuck receipts should finish", status)
	}
	if n := len(b.notifications(t)); n != 2 {
		t.Fatalf("%d notifications stored, want the 2 accepted", n)
	}
}
