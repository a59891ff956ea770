package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// TestChargeRecordedAfterClientHangsUp: the client gives up while the PG
// is still working on the charge; the PG then approves it. What billingd
// records must not depend on the client still listening: the payment is
// paid at once, with no sweep, job or webhook to rescue it.
func TestChargeRecordedAfterClientHangsUp(t *testing.T) {
	t.Parallel()
	b := setupPaymentsWith(t, bundleOpts{noJobs: true})
	key := b.activeKey(t, "payco")
	b.sandbox.Iamport.SetWebhooksEnabled(false)
	// 5: approved, the reply held; here for a second, well inside the PG timeout.
	b.sandbox.Iamport.SetSlowReply(time.Second)
	body, _ := json.Marshal(map[string]any{"billing_key_id": key, "amount": 3005, "order_name": "hang-up"})
	req, err := http.NewRequestWithContext(t.Context(), "POST", b.url+"/v1/payments", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+b.m.secret)
	req.Header.Set("Idempotency-Key", "hang-up")
	impatient := &http.Client{Timeout: 200 * time.Millisecond}
	if resp, err := impatient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("the client got %d before the PG answered", resp.StatusCode)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var id, status string
		err := b.store.Pool().QueryRow(t.Context(), `SELECT id, status FROM payments WHERE merchant_id = $1`, b.m.id).Scan(&id, &status)
		if err == nil && status == "paid" {
			if n := len(b.sandbox.Iamport.PaymentsByOrder(id)); n != 1 {
				t.Fatalf("%d charges at the PG", n)
			}
			if got := b.eventTypes(t, id); len(got) != 1 || got[0] != "payment.paid" {
				t.Fatalf("events %v", got)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("10 s after the PG approved, the payment is %q (%v); logs:\n%s", status, err, lastLines(b.logs.String(), 10))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
