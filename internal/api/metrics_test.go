package api

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/jobs"
)

// serverTiming matches the header every response carries.
var serverTiming = regexp.MustCompile(`^app;dur=(\d+\.\d\d), pg;dur=(\d+\.\d\d)$`)

// timings parses a response's Server-Timing into milliseconds.
func timings(t *testing.T, r response) (app, pg float64) {
	t.Helper()
	m := serverTiming.FindStringSubmatch(r.header.Get("Server-Timing"))
	if m == nil {
		t.Fatalf("Server-Timing %q", r.header.Get("Server-Timing"))
	}
	app, _ = strconv.ParseFloat(m[1], 64)
	pg, _ = strconv.ParseFloat(m[2], 64)
	return app, pg
}

// scrape returns /metrics.
func (b *testBundle) scrape(t *testing.T) string {
	t.Helper()
	r := b.do(t, request{method: "GET", path: "/metrics"})
	requireStatus(t, r, http.StatusOK)
	return string(r.raw)
}

// requireSeries fails unless the exposition has a sample line that starts
// with name and contains every label pair.
func requireSeries(t *testing.T, exposition, name string, labels ...string) {
	t.Helper()
	for _, line := range strings.Split(exposition, "\n") {
		if !strings.HasPrefix(line, name+"{") {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(line, l)
		}
		if ok {
			return
		}
	}
	t.Fatalf("no %s{%s} in /metrics", name, strings.Join(labels, ","))
}

func TestServerTiming(t *testing.T) {
	t.Parallel()

	t.Run("OnEveryResponse", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m := b.newMerchant(t)
		for _, r := range []response{
			b.do(t, request{method: "GET", path: "/healthz"}),
			b.do(t, request{method: "GET", path: "/v1/customers", auth: m.secret}),
			b.do(t, request{method: "GET", path: "/v1/customers/cus_nope", auth: m.secret}), // an error
			b.do(t, request{method: "GET", path: "/v1/nowhere", auth: m.secret}),            // unrouted
		} {
			if _, pg := timings(t, r); pg != 0 {
				t.Fatalf("pg;dur=%v on a request that calls no PG", pg)
			}
		}
	})

	t.Run("PGTimeOfACharge", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		key := b.activeKey(t, "payco")
		r := b.charge(t, "st-1", map[string]any{"billing_key_id": key, "amount": 1000, "order_name": "x"})
		requireStatus(t, r, http.StatusCreated)
		if _, pg := timings(t, r); pg <= 0 {
			t.Fatalf("a charge waited on the PG but pg;dur=%v", pg)
		}
		// A replay is answered from storage: its timing is its own, and
		// it waited on no PG.
		replay := b.charge(t, "st-1", map[string]any{"billing_key_id": key, "amount": 1000, "order_name": "x"})
		if replay.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("not a replay: %v", replay.header)
		}
		if _, pg := timings(t, replay); pg != 0 {
			t.Fatalf("replay pg;dur=%v, want 0", pg)
		}
	})
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	b := setupPayments(t)
	b.metrics.RegisterQueueDepth(jobs.QueueDepth(b.store)) // as cmd/billingd wires it
	rc := newReceiver(t, nil)
	requireStatus(t, b.createEndpoint(t, b.m.secret, map[string]any{"url": rc.URL, "enabled_events": []string{"payment.paid"}}), http.StatusCreated)
	key := b.activeKey(t, "payco")
	requireStatus(t, b.charge(t, "m-1", map[string]any{"billing_key_id": key, "amount": 1000, "order_name": "x"}), http.StatusCreated)
	requireStatus(t, b.charge(t, "m-2", map[string]any{"billing_key_id": key, "amount": 1004, "order_name": "x"}), http.StatusPaymentRequired)
	requireStatus(t, b.do(t, request{method: "GET", path: "/v1/payments/pay_00000000000000000000000000", auth: b.m.secret}), http.StatusNotFound)
	rc.waitFor(t, 1)
	requireEventually(t, "the delivery counted", func() bool {
		return strings.Contains(b.scrape(t), `billingd_webhook_deliveries_total{state="delivered"} 1`)
	})

	got := b.scrape(t)
	requireSeries(t, got, "billingd_http_request_duration_seconds_count", `route="/v1/payments"`, `method="POST"`, `status="201"`)
	requireSeries(t, got, "billingd_http_request_duration_seconds_count", `route="/v1/payments"`, `status="402"`)
	requireSeries(t, got, "billingd_http_request_duration_seconds_count", `route="/v1/payments/{id}"`, `status="404"`)
	requireSeries(t, got, "billingd_pg_call_duration_seconds_count", `provider="iamport"`, `operation="charge"`, `outcome="ok"`)
	requireSeries(t, got, "billingd_pg_call_duration_seconds_count", `provider="iamport"`, `operation="charge"`, `outcome="declined"`)
	requireSeries(t, got, "billingd_pg_call_duration_seconds_count", `provider="iamport"`, `operation="verify_billing_key"`)
	requireSeries(t, got, "billingd_pg_token_refreshes_total", `provider="iamport"`)
	requireSeries(t, got, "billingd_webhook_attempts_total", `outcome="succeeded"`)
	requireSeries(t, got, "billingd_jobs_worked_total", `kind="deliver_webhook"`, `outcome="ok"`)
	if !strings.Contains(got, "billingd_job_queue_depth_up 1") {
		t.Fatal("the queue depth could not be read")
	}
	// Ids never become label values.
	if strings.Contains(got, billing.PrefixPayment) || strings.Contains(got, b.m.id) {
		t.Fatal("/metrics carries ids")
	}
}
