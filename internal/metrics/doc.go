// Package metrics owns billingd's observability surface: one private
// Prometheus registry (built once, in cmd/billingd, and passed to whoever
// records), the HTTP middleware that records latency by route, and the
// Server-Timing header that splits a response's time into billingd's own
// ("app") and the time spent waiting on PGs ("pg").
//
// It must never label a series with anything unbounded or personal: no
// paths with ids, no merchant ids, no URLs — route patterns, providers,
// operations, outcomes and job kinds only. Every method is safe on a nil
// *Metrics, so code under test may run without a registry.
package metrics
