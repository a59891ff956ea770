package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/billingd/billingd/internal/metrics"
	"github.com/billingd/billingd/internal/store"
)

// registerDBRoundTrips exports the store's round-trip count as
// billingd_db_round_trips_total (requests and jobs together).
func registerDBRoundTrips(m *metrics.Metrics, st *store.Store) {
	m.Registry().MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "billingd_db_round_trips_total",
		Help: "Round trips to Postgres: queries, execs (BEGIN and COMMIT included), batches and statement preparations.",
	}, func() float64 { return float64(st.RoundTrips()) }))
}

// serveDebug serves Go's profiler on addr (BILLINGD_DEBUG_ADDR), apart from
// the API so it never shares its router, middleware or port. The returned
// function stops it.
func serveDebug(addr string, log zerolog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (BILLINGD_DEBUG_ADDR): %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	log.Info().Str("addr", ln.Addr().String()).Msg("profiler listening (BILLINGD_DEBUG_ADDR)")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
