package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// TestRenewalWaveSettlesBeforeAdvanceAnswers is BenchmarkRenewalWave's
// shape at a size that overruns every batch of one test-clock round (500
// renewals, 200 swept schedules, 1,000 settled schedules): when the
// advance answers, every first period is paid and every next period
// registered, once. The PG's webhooks are lost, as when a replica refuses
// a wave of them beyond what it receives at once (Iamport sends once):
// the answer must come from asking the PG, not from a grace period that
// ends after the advance has answered.
func TestRenewalWaveSettlesBeforeAdvanceAnswers(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 1,100 subscriptions")
	}
	const n = 1100
	b := setupPaymentsWith(t, bundleOpts{noJobs: true}) // the advance alone must settle the wave
	key := b.activeKey(t, "payco")
	due := time.Now().Add(30 * 24 * time.Hour).Truncate(time.Second)
	b.createSubscriptions(t, key, due, n)
	b.sandbox.Iamport.SetWebhooksEnabled(false)
	before := map[string]int{"schedule": b.pgCalls("POST /subscribe/payments/schedule"),
		"lookup": b.pgCalls("GET /subscribe/payments/schedule/{merchant_uid}"), "get": b.pgCalls("GET /payments/{imp_uid}")}

	body, _ := json.Marshal(map[string]any{"to": due.Add(time.Minute).Format(time.RFC3339)})
	req, _ := http.NewRequest("POST", b.url+"/v1/test_clock/advance", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+b.m.secret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("advance: %d", resp.StatusCode)
	}

	var paid, scheduled, dupPeriods int
	err = b.store.Pool().QueryRow(t.Context(), `SELECT count(*) FILTER (WHERE status = 'paid' AND period = 0),
		count(*) FILTER (WHERE status = 'scheduled' AND period = 1) FROM payments`).Scan(&paid, &scheduled)
	if err != nil {
		t.Fatal(err)
	}
	err = b.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM (SELECT subscription_id, period FROM payments
		WHERE status NOT IN ('failed', 'canceled') GROUP BY 1, 2 HAVING count(*) > 1) d`).Scan(&dupPeriods)
	if err != nil {
		t.Fatal(err)
	}
	if paid != n || scheduled != n || dupPeriods != 0 {
		t.Fatalf("when the advance answered: %d first periods paid, %d next periods scheduled (want %d each), %d periods held twice",
			paid, scheduled, n, dupPeriods)
	}
	if charged := b.pgCalls("POST /subscribe/payments/again"); charged != 0 {
		t.Fatalf("%d direct charges beside the PG's scheduled runs", charged)
	}
	t.Logf("PG calls for %d renewals: %d schedule registrations, %d schedule look-ups, %d payment look-ups", n,
		b.pgCalls("POST /subscribe/payments/schedule")-before["schedule"],
		b.pgCalls("GET /subscribe/payments/schedule/{merchant_uid}")-before["lookup"], b.pgCalls("GET /payments/{imp_uid}")-before["get"])
}

// TestAdvanceOutlastedByItsWork: test time runs on with real time, so an
// advance whose due work takes longer than the rest of its jump finds the
// clock past its target. That is where it was going: it answers 200 with
// the work done (the 10,000 wave's advance answered 500, "the test clock
// only moves forward", after three minutes of work).
func TestAdvanceOutlastedByItsWork(t *testing.T) {
	t.Parallel()
	b := setupPaymentsWith(t, bundleOpts{noJobs: true})
	key := b.activeKey(t, "payco")
	due := time.Now().Add(30 * 24 * time.Hour).Truncate(time.Second)
	b.createSubscriptions(t, key, due, 3)
	// A millisecond past the due time: settling three periods and
	// registering the next ones takes longer than that.
	body, _ := json.Marshal(map[string]any{"to": due.Add(time.Millisecond).Format(time.RFC3339Nano)})
	req, _ := http.NewRequest("POST", b.url+"/v1/test_clock/advance", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+b.m.secret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("advance whose work outlasts its jump: HTTP %d", resp.StatusCode)
	}
	var paid int
	if err := b.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM payments WHERE status = 'paid' AND period = 0`).Scan(&paid); err != nil {
		t.Fatal(err)
	}
	if paid != 3 {
		t.Fatalf("%d of 3 first periods paid when the advance answered", paid)
	}
}
