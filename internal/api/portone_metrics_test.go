package api

import (
	"net/http"
	"testing"
)

// TestPortoneMetricsAndServerTiming: PortOne V2 calls are timed and
// counted like the other PGs'.
func TestPortoneMetricsAndServerTiming(t *testing.T) {
	t.Parallel()
	b := setupPortone(t)
	key := b.key(t)
	r := b.charge(t, "m-1", map[string]any{"billing_key_id": key, "amount": 1000, "order_name": "x"})
	requireStatus(t, r, http.StatusCreated)
	if _, pg := timings(t, r); pg <= 0 {
		t.Fatalf("Server-Timing %q has no PG time", r.header.Get("Server-Timing"))
	}
	requireStatus(t, b.charge(t, "m-2", map[string]any{"billing_key_id": key, "amount": 1004, "order_name": "x"}), http.StatusPaymentRequired)
	got := b.scrape(t)
	requireSeries(t, got, "billingd_pg_call_duration_seconds_count", `provider="portone"`, `operation="charge"`, `outcome="ok"`)
	requireSeries(t, got, "billingd_pg_call_duration_seconds_count", `provider="portone"`, `operation="charge"`, `outcome="declined"`)
	requireSeries(t, got, "billingd_pg_call_duration_seconds_count", `provider="portone"`, `operation="verify_billing_key"`)
	// The sandbox's own Transaction.Paid arrives on its own time.
	requireEventually(t, "the webhook route timed", func() bool {
		return contains(b.scrape(t), `billingd_http_request_duration_seconds_count{method="POST",route="/webhooks/portone/{account_id}",status="200"}`)
	})
}
