// Package jobs runs billingd's background work on River, in the same
// Postgres as everything else: reconciling unknown payments, verifying PG
// notifications, sweeping stuck payments, expiring registrations and
// pruning idempotency records.
//
// Jobs may run more than once and on any replica: every worker is
// idempotent (it asks the PG or the database what is already done before
// doing anything). Periodic jobs run on the elected leader only.
package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/trace"

	"github.com/billingd/billingd/internal/metrics"
	"github.com/billingd/billingd/internal/payments"
	"github.com/billingd/billingd/internal/store"
	"github.com/billingd/billingd/internal/subscriptions"
	"github.com/billingd/billingd/internal/webhooks"
)

// Deps is what the workers call. Payments is set after the client exists,
// because the payment service enqueues through the client.
type Deps struct {
	Store    *store.Store
	Payments *payments.Service
	// Subscriptions runs renewals and due subscription work.
	Subscriptions *subscriptions.Service
	Now           func() time.Time
	// Webhooks delivers merchant webhooks; EventRetention is how long
	// events are kept (0: DefaultEventRetention).
	Webhooks       *webhooks.Deliverer
	EventRetention time.Duration
	// AuditRetention is how long audit rows are kept (0: forever).
	AuditRetention time.Duration
}

// Options configures the client.
type Options struct {
	Workers int // concurrent jobs per replica
	Logger  zerolog.Logger
	Metrics *metrics.Metrics // counts worked jobs; may be nil
	// PGTimeout is the payment service's bound on one PG call (0:
	// payments.DefaultPGTimeout): jobs get that plus the time to record.
	PGTimeout time.Duration
	// PollOnly polls for jobs instead of LISTENing (PgBouncer in
	// transaction mode).
	PollOnly bool
	// Tracer, when set, gives every worked job a span (trace.go); nil
	// when tracing is off, so it costs nothing.
	Tracer trace.TracerProvider
}

// NotificationWorkers is how many PG notification verifications one
// replica runs at once, in their own queue: a flood of webhooks can take
// no more than these (and their database connections) from the rest.
const NotificationWorkers = 2

// NewClient builds a River client with every worker and periodic job.
func NewClient(pool *pgxpool.Pool, deps *Deps, o Options) (*river.Client[pgx.Tx], error) {
	if o.Workers == 0 {
		o.Workers = 10
	}
	if o.PGTimeout == 0 {
		o.PGTimeout = payments.DefaultPGTimeout
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &reconcileWorker{deps: deps})
	river.AddWorker(workers, &notificationWorker{deps: deps})
	river.AddWorker(workers, &sweepWorker{deps: deps})
	river.AddWorker(workers, &notificationSweepWorker{deps: deps})
	river.AddWorker(workers, &pruneNotificationWindowsWorker{deps: deps})
	river.AddWorker(workers, &expireWorker{deps: deps})
	river.AddWorker(workers, &pruneWorker{deps: deps})
	river.AddWorker(workers, &renewWorker{deps: deps})
	river.AddWorker(workers, &tickWorker{deps: deps})
	river.AddWorker(workers, &revokeWorker{deps: deps})
	webhookJobs := addWebhookJobs(workers, deps)
	webhookJobs = append(webhookJobs, addAuditJobs(workers, deps)...)

	var middleware []rivertype.Middleware
	if o.Tracer != nil {
		middleware = append(middleware, traceMiddleware(o.Tracer))
	}
	return river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues: map[string]river.QueueConfig{
			river.QueueDefault:         {MaxWorkers: o.Workers},
			payments.NotificationQueue: {MaxWorkers: NotificationWorkers},
		},
		Workers:              workers,
		JobTimeout:           jobTimeout(o.PGTimeout),
		RescueStuckJobsAfter: rescueAfter(o.PGTimeout),
		Logger:               slog.New(zerolog.NewSlogHandler(o.Logger)),
		Hooks:                observeHooks(o.Metrics),
		Middleware:           middleware,
		PollOnly:             o.PollOnly,
		PeriodicJobs: append([]*river.PeriodicJob{
			periodic(time.Minute, SweepStaleArgs{}, nil),
			periodic(time.Minute, SubscriptionTickArgs{}, nil),
			periodic(NotificationSweepInterval, SweepNotificationsArgs{}, nil),
			periodic(5*time.Minute, ExpireRegistrationsArgs{}, nil),
			periodic(time.Hour, PruneIdempotencyArgs{}, nil),
			periodic(time.Hour, PruneNotificationWindowsArgs{}, nil),
		}, webhookJobs...),
	})
}

// reconcileWorker settles a payment whose outcome is unknown, on the
// reconcile schedule (1 m, 5 m, 30 m, 2 h, then daily).
type reconcileWorker struct {
	river.WorkerDefaults[payments.ReconcileArgs]
	deps *Deps
}

func (w *reconcileWorker) Work(ctx context.Context, job *river.Job[payments.ReconcileArgs]) error {
	_, err := w.deps.Payments.Reconcile(ctx, job.Args.PaymentID)
	return err
}

func (w *reconcileWorker) NextRetry(job *river.Job[payments.ReconcileArgs]) time.Time {
	return time.Now().Add(payments.ReconcileBackoff(job.Attempt + 1))
}

// notificationWorker verifies a PG notification against the PG's API.
type notificationWorker struct {
	river.WorkerDefaults[payments.ApplyNotificationArgs]
	deps *Deps
}

func (w *notificationWorker) Work(ctx context.Context, job *river.Job[payments.ApplyNotificationArgs]) error {
	return w.deps.Payments.ApplyNotification(ctx, job.Args.NotificationID)
}

// SweepStaleArgs finds payments stuck in processing or unknown.
type SweepStaleArgs struct{}

// Kind names the job.
func (SweepStaleArgs) Kind() string { return "sweep_stale_payments" }

type sweepWorker struct {
	river.WorkerDefaults[SweepStaleArgs]
	deps *Deps
}

func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[SweepStaleArgs]) error {
	_, err := w.deps.Payments.SweepStale(ctx)
	return err
}

// NotificationSweepInterval is how often deferred PG notifications are
// looked at (payments.SweepNotifications): a notification about a charge
// in flight waits that long at most beyond its grace.
const NotificationSweepInterval = 3 * time.Second

// SweepNotificationsArgs finishes or queues deferred PG notifications.
type SweepNotificationsArgs struct{}

// Kind names the job.
func (SweepNotificationsArgs) Kind() string { return "sweep_pg_notifications" }

type notificationSweepWorker struct {
	river.WorkerDefaults[SweepNotificationsArgs]
	deps *Deps
}

func (w *notificationSweepWorker) Work(ctx context.Context, _ *river.Job[SweepNotificationsArgs]) error {
	return w.deps.Payments.SweepNotifications(ctx)
}

// ExpireRegistrationsArgs fails pending billing keys past their deadline.
type ExpireRegistrationsArgs struct{}

// Kind names the job.
func (ExpireRegistrationsArgs) Kind() string { return "expire_registrations" }

type expireWorker struct {
	river.WorkerDefaults[ExpireRegistrationsArgs]
	deps *Deps
}

func (w *expireWorker) Work(ctx context.Context, _ *river.Job[ExpireRegistrationsArgs]) error {
	_, err := w.deps.Payments.ExpireRegistrations(ctx)
	return err
}

// PruneIdempotencyArgs deletes idempotency records past their retention.
type PruneIdempotencyArgs struct{}

// Kind names the job.
func (PruneIdempotencyArgs) Kind() string { return "prune_idempotency_keys" }

type pruneWorker struct {
	river.WorkerDefaults[PruneIdempotencyArgs]
	deps *Deps
}

func (w *pruneWorker) Work(ctx context.Context, _ *river.Job[PruneIdempotencyArgs]) error {
	_, err := w.deps.Store.DeleteIdempotencyKeysBefore(ctx, w.deps.Now().Add(-store.IdempotencyRetention))
	return err
}
