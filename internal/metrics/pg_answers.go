package metrics

import "github.com/prometheus/client_golang/prometheus"

// newPGMismatches counts PG answers billingd refused to apply because they
// did not match the payment it sent (order id, amount, currency, key,
// channel). Any increase needs an operator: see the payment.pg_mismatch
// events.
func newPGMismatches(reg *prometheus.Registry) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "billingd_pg_answer_mismatches_total",
		Help: "PG answers not applied because they differ from what billingd sent, by provider and path (charge, reconcile, notification, schedule).",
	}, []string{"provider", "path"})
	reg.MustRegister(c)
	return c
}

// ObservePGMismatch counts one PG answer that was not applied.
func (m *Metrics) ObservePGMismatch(provider, path string) {
	if m == nil {
		return
	}
	m.pgMismatches.WithLabelValues(provider, path).Inc()
}
