package api

import "net/http"

// serveMetrics exposes the Prometheus registry. Like /healthz it takes no
// credentials: its series carry route patterns, providers and counts,
// never ids or personal data. Still, keep it off the public ingress and
// let Prometheus scrape the pods directly.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	s.metricsHandler.ServeHTTP(w, r)
}
