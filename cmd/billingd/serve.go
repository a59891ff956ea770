package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel"

	"github.com/billingd/billingd/internal/admin"
	"github.com/billingd/billingd/internal/api"
	"github.com/billingd/billingd/internal/clock"
	"github.com/billingd/billingd/internal/config"
	"github.com/billingd/billingd/internal/console"
	"github.com/billingd/billingd/internal/gateways"
	"github.com/billingd/billingd/internal/identity"
	"github.com/billingd/billingd/internal/jobs"
	"github.com/billingd/billingd/internal/metrics"
	"github.com/billingd/billingd/internal/payments"
	"github.com/billingd/billingd/internal/providers/sandbox"
	"github.com/billingd/billingd/internal/store"
	"github.com/billingd/billingd/internal/subscriptions"
	"github.com/billingd/billingd/internal/testclock"
	"github.com/billingd/billingd/internal/tracing"
	"github.com/billingd/billingd/internal/webhooks"
)

// serve runs the production server.
func serve(ctx context.Context, stderr io.Writer) error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	if err := cfg.Require("DATABASE_URL", "PUBLIC_BASE_URL", "ADMIN_TOKEN", "ENCRYPTION_KEY"); err != nil {
		return err
	}
	log := newLogger(stderr, cfg)
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if cfg.Migrate {
		if err := st.Migrate(ctx); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen on %s (BILLINGD_LISTEN_ADDR): %w", cfg.ListenAddr, err)
	}
	return runServer(ctx, ln, cfg, st, log, nil)
}

func openStore(ctx context.Context, cfg config.Config) (*store.Store, error) {
	keys, err := cfg.Keyring()
	if err != nil {
		return nil, err
	}
	return store.Open(ctx, cfg.DatabaseURL, cfg.DBMaxConns, keys)
}

// runServer serves HTTP on ln and works jobs until ctx ends, then drains:
// in-flight requests first (up to the shutdown timeout), then running jobs;
// the caller closes the pool after that, so nothing loses its database
// mid-way. onSandbox, when the sandbox is on, gets it before any request.
func runServer(ctx context.Context, ln net.Listener, cfg config.Config, st *store.Store, log zerolog.Logger, mount func(chi.Router), onSandbox ...func(*sandbox.Set)) error {
	var sb *sandbox.Set
	m := metrics.New()
	m.RegisterQueueDepth(jobs.QueueDepth(st))
	registerDBRoundTrips(m, st)
	if cfg.DebugAddr != "" {
		stopDebug, err := serveDebug(cfg.DebugAddr, log)
		if err != nil {
			return err
		}
		defer stopDebug()
	}
	guard := webhooks.Guard{AllowPrivate: cfg.WebhookAllowPrivate}
	gwOpts := gateways.Options{Metrics: m, Trace: tracing.Enabled()}
	if gwOpts.Trace {
		shutdown, err := tracing.Setup(ctx)
		if err != nil {
			return err
		}
		defer func() {
			flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = shutdown(flushCtx)
		}()
		log.Info().Msg("tracing to the OTLP endpoint in OTEL_EXPORTER_OTLP_*")
	}
	clk := clock.New()
	if cfg.Sandbox {
		// The sandbox PGs run on test mode's clock, which the test clock moves.
		sb = sandbox.New(sandbox.Options{Now: clk.TestNow})
		defer sb.Close()
		// The adapters reach this process's own sandbox over loopback, so
		// test mode works whatever the public URL is.
		gwOpts.SandboxURL, gwOpts.Sandbox = loopbackURL(ln)+"/sandbox", sb
		for _, f := range onSandbox {
			f(sb)
		}
	}
	gw := gateways.New(gwOpts)
	deps := &jobs.Deps{Store: st, EventRetention: cfg.EventRetention, AuditRetention: cfg.AuditRetention,
		Webhooks: webhooks.New(webhooks.Options{Store: st, Guard: guard, Metrics: m, Logger: log})}
	jobOpts := jobs.Options{Workers: cfg.JobWorkers, Logger: log, Metrics: m, PGTimeout: payments.DefaultPGTimeout, PollOnly: cfg.JobsPollOnly}
	if gwOpts.Trace {
		jobOpts.Tracer = otel.GetTracerProvider() // tracing.Setup installed it
	}
	queue, err := jobs.NewClient(st.Pool(), deps, jobOpts)
	if err != nil {
		return fmt.Errorf("job queue: %w", err)
	}
	st.SetDeliveryEnqueuer(jobs.Enqueuer(queue))
	pay := payments.New(payments.Options{Store: st, Gateways: gw, Queue: queue, PublicBaseURL: cfg.PublicBaseURL, Clock: clk, Logger: log, Metrics: m, PGTimeout: jobOpts.PGTimeout})
	subs := subscriptions.New(subscriptions.Options{Store: st, Payments: pay, Clock: clk, Logger: log})
	deps.Payments, deps.Subscriptions = pay, subs
	var advancer *testclock.Advancer
	if cfg.TestClock && sb != nil {
		advancer = testclock.New(clk, sb, pay, subs)
	}

	adm := admin.New(st, cfg.PublicBaseURL)
	var handler *api.Server
	con, err := console.New(console.Options{Store: st, Admin: adm, Payments: pay, Subscriptions: subs, AdminToken: cfg.AdminToken, Logger: log,
		KeyRevoked: func(id string) { handler.ForgetAPIKey(id) }})
	if err != nil {
		return err
	}
	handler = api.New(api.Options{
		Console:        con,
		Store:          st,
		Admin:          adm,
		Gateways:       gw,
		Payments:       pay,
		Subscriptions:  subs,
		TestClock:      advancer,
		Identity:       identity.New(identity.Options{Store: st, Gateways: gw, Now: clk.Now}),
		Sandbox:        sb,
		Logger:         log,
		AdminToken:     cfg.AdminToken,
		MaxBodyBytes:   cfg.MaxBodyBytes,
		RateLimit:      cfg.RateLimit,
		TrustedProxies: cfg.TrustedProxies,
		Mount:          mount,
		Metrics:        m,
		WebhookGuard:   guard,
		APIKeyCacheTTL: cfg.APIKeyCacheTTL,

		WebhookRateLimit: cfg.WebhookRateLimit,
	})
	var root http.Handler = handler
	if gwOpts.Trace {
		root = tracing.Handler(handler)
	}
	srv := &http.Server{
		Handler:           root,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
	}

	if err := queue.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start jobs: %w", err)
	}
	live, err := jobs.StartLiveness(ctx, st, queue.ID(), log)
	if err != nil {
		stopJobs(queue, cfg.ShutdownTimeout, nil)
		return fmt.Errorf("register replica: %w", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info().Str("addr", ln.Addr().String()).Str("replica", queue.ID()).Msg("billingd listening")

	select {
	case err := <-errc:
		stopJobs(queue, cfg.ShutdownTimeout, live)
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// New connections are refused at once; requests in flight and running
	// jobs get the same timeout, side by side. A charge still waiting on
	// its PG when it ends stays processing and is reconciled by another
	// replica's sweep; an unfinished job runs again on another replica.
	log.Info().Dur("timeout", cfg.ShutdownTimeout).Msg("shutting down: draining requests and jobs")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	jobsDone := make(chan struct{})
	go func() { stopJobs(queue, cfg.ShutdownTimeout, live); close(jobsDone) }()
	shutdownErr := srv.Shutdown(shutdownCtx)
	<-jobsDone
	if shutdownErr != nil {
		return fmt.Errorf("shutdown: %w", shutdownErr)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info().Msg("stopped")
	return nil
}

// stopJobs stops fetching jobs and lets running ones finish within the
// timeout; past it, their contexts are cancelled (they are idempotent and
// run again elsewhere). Then the replica is marked gone, so other replicas
// take over whatever it left running without waiting for its heartbeat to
// go stale.
func stopJobs(queue interface {
	Stop(context.Context) error
	StopAndCancel(context.Context) error
}, timeout time.Duration, live *jobs.Liveness) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := queue.Stop(ctx); err != nil {
		cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = queue.StopAndCancel(cctx)
		ccancel()
	}
	if live != nil {
		lctx, lcancel := context.WithTimeout(context.Background(), 5*time.Second)
		live.Stop(lctx)
		lcancel()
	}
}

// loopbackURL is how this process reaches its own listener.
func loopbackURL(ln net.Listener) string {
	addr := ln.Addr().(*net.TCPAddr)
	host := "127.0.0.1"
	if !addr.IP.IsUnspecified() {
		host = addr.IP.String()
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
}
