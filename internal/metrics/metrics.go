package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds every series billingd records.
type Metrics struct {
	reg *prometheus.Registry

	httpDuration      *prometheus.HistogramVec
	pgDuration        *prometheus.HistogramVec
	pgTokenRefreshes  *prometheus.CounterVec
	jobsWorked        *prometheus.CounterVec
	webhookAttempts   *prometheus.CounterVec
	webhookDeliveries *prometheus.CounterVec
	pgMismatches      *prometheus.CounterVec
	operatorFailures  *prometheus.CounterVec
}

// Buckets for request and PG latencies: PG calls take 100 ms to 30 s (the
// adapters' timeout), API calls 1 ms up to the PG's time.
var latencyBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// New builds a registry with billingd's series and the Go runtime and
// process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "billingd_http_request_duration_seconds", Help: "HTTP request latency by chi route pattern, method and status.",
			Buckets: latencyBuckets,
		}, []string{"route", "method", "status"}),
		pgDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "billingd_pg_call_duration_seconds", Help: "PG adapter call latency by provider, operation and outcome (ok, declined, rejected, unknown, auth, not_found, error).",
			Buckets: latencyBuckets,
		}, []string{"provider", "operation", "outcome"}),
		pgTokenRefreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "billingd_pg_token_refreshes_total", Help: "Access-token requests sent to PGs.",
		}, []string{"provider"}),
		jobsWorked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "billingd_jobs_worked_total", Help: "River jobs worked by kind and outcome (ok, error, cancel, snooze, panic).",
		}, []string{"kind", "outcome"}),
		webhookAttempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "billingd_webhook_attempts_total", Help: "Outbound webhook HTTP attempts by outcome (succeeded, http_error, network_error, blocked, gone).",
		}, []string{"outcome"}),
		webhookDeliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "billingd_webhook_deliveries_total", Help: "Outbound webhook deliveries that reached a final state (delivered, failed, canceled).",
		}, []string{"state"}),
		operatorFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "billingd_operator_failures_total", Help: "Subscription charges that failed for a reason that is not the customer's (PG credentials, the merchant's PG configuration, a payment or schedule the PG has no record of), by provider and failure code.",
		}, []string{"provider", "code"}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpDuration, m.pgDuration, m.pgTokenRefreshes, m.jobsWorked, m.webhookAttempts, m.webhookDeliveries,
		m.operatorFailures,
	)
	m.pgMismatches = newPGMismatches(m.reg)
	return m
}

// Registry is the private registry, for collectors registered elsewhere.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return prometheus.NewRegistry()
	}
	return m.reg
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry(), promhttp.HandlerOpts{})
}

// ObserveHTTP records one request.
func (m *Metrics) ObserveHTTP(route, method string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.httpDuration.WithLabelValues(route, method, strconv.Itoa(status)).Observe(d.Seconds())
}

// ObservePGCall records one PG adapter call.
func (m *Metrics) ObservePGCall(provider, operation, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	m.pgDuration.WithLabelValues(provider, operation, outcome).Observe(d.Seconds())
}

// AddTokenRefreshes counts n access-token requests to a provider.
func (m *Metrics) AddTokenRefreshes(provider string, n int64) {
	if m == nil || n <= 0 {
		return
	}
	m.pgTokenRefreshes.WithLabelValues(provider).Add(float64(n))
}

// ObserveJob counts one worked job.
func (m *Metrics) ObserveJob(kind, outcome string) {
	if m == nil {
		return
	}
	m.jobsWorked.WithLabelValues(kind, outcome).Inc()
}

// ObserveWebhookAttempt counts one outbound webhook attempt.
func (m *Metrics) ObserveWebhookAttempt(outcome string) {
	if m == nil {
		return
	}
	m.webhookAttempts.WithLabelValues(outcome).Inc()
}

// ObserveWebhookDelivery counts a delivery reaching a final state.
func (m *Metrics) ObserveWebhookDelivery(state string) {
	if m == nil {
		return
	}
	m.webhookDeliveries.WithLabelValues(state).Inc()
}

// ObserveOperatorFailure counts a subscription charge that failed for a
// reason the operator must fix, not the customer.
func (m *Metrics) ObserveOperatorFailure(provider, code string) {
	if m == nil {
		return
	}
	m.operatorFailures.WithLabelValues(provider, code).Inc()
}
