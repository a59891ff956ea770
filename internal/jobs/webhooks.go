package jobs

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/store"
	"github.com/billingd/billingd/internal/webhooks"
)

// Merchant webhooks on River: one deliver_webhook job per delivery, which
// InsertEvent enqueues in the event's own transaction (Enqueuer); a
// leader-only sweep for deliveries that have no live job; and the events
// retention job.

// DefaultEventRetention is how long events are kept (the API promises 30
// days).
const DefaultEventRetention = 30 * 24 * time.Hour

// Enqueuer returns the store.DeliveryEnqueuer that inserts one job per
// delivery with the client, in the caller's transaction.
func Enqueuer(client *river.Client[pgx.Tx]) store.DeliveryEnqueuer {
	return func(ctx context.Context, tx pgx.Tx, refs []store.DeliveryRef) error {
		params := make([]river.InsertManyParams, len(refs))
		for i, r := range refs {
			params[i] = river.InsertManyParams{Args: webhooks.DeliverArgs{DeliveryID: r.ID, Run: r.Run}}
		}
		_, err := client.InsertManyTx(ctx, tx, params)
		return err
	}
}

// deliverWorker makes one attempt of a delivery per run. The retry
// schedule is the Deliverer's (data, not River's default back-off): the
// attempt picks its next time — the schedule's step or a longer
// Retry-After — and NextRetry hands River that time.
type deliverWorker struct {
	river.WorkerDefaults[webhooks.DeliverArgs]
	deps    *Deps
	retryAt sync.Map // job id → time.Time chosen by the failed attempt
}

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[webhooks.DeliverArgs]) error {
	out, err := w.deps.Webhooks.Deliver(ctx, job.Args.DeliveryID, job.Args.Run, job.Attempt, job.Attempt >= job.MaxAttempts)
	if err != nil {
		return err
	}
	switch {
	case out.State == billing.DeliveryPending && out.Err != nil:
		w.retryAt.Store(job.ID, out.RetryAt)
		return out.Err
	case out.State == billing.DeliveryFailed && out.Err != nil:
		// Final: a 410, or the schedule ran out. Cancel rather than
		// complete, so River's own records show the failure too.
		return river.JobCancel(out.Err)
	}
	return nil
}

// NextRetry is called by River in this process right after Work failed.
func (w *deliverWorker) NextRetry(job *river.Job[webhooks.DeliverArgs]) time.Time {
	if at, ok := w.retryAt.LoadAndDelete(job.ID); ok {
		return at.(time.Time)
	}
	return time.Now().Add(w.deps.Webhooks.Schedule().Delay(job.Attempt))
}

// Timeout covers the 10 s HTTP attempt plus its bookkeeping.
func (w *deliverWorker) Timeout(*river.Job[webhooks.DeliverArgs]) time.Duration {
	return webhooks.DeliveryTimeout + 20*time.Second
}

// DispatchDeliveriesArgs enqueues pending deliveries without a live job.
type DispatchDeliveriesArgs struct{}

// Kind names the job.
func (DispatchDeliveriesArgs) Kind() string { return "dispatch_webhook_deliveries" }

type dispatchWorker struct {
	river.WorkerDefaults[DispatchDeliveriesArgs]
	deps *Deps
}

func (w *dispatchWorker) Work(ctx context.Context, _ *river.Job[DispatchDeliveriesArgs]) error {
	enqueue := Enqueuer(river.ClientFromContext[pgx.Tx](ctx))
	// A job an hour late is lost, not slow: its attempt takes seconds.
	staleBefore := w.deps.Now().Add(-time.Hour)
	for {
		n, err := w.deps.Store.DispatchPendingDeliveries(ctx, staleBefore, 500, enqueue)
		if err != nil || n < 500 {
			return err
		}
	}
}

// PruneEventsArgs deletes events past their retention.
type PruneEventsArgs struct{}

// Kind names the job.
func (PruneEventsArgs) Kind() string { return "prune_events" }

type pruneEventsWorker struct {
	river.WorkerDefaults[PruneEventsArgs]
	deps *Deps
}

// Work keeps an event whose delivery is still inside its retry schedule,
// whatever its age, so no retry ever finds its event gone.
func (w *pruneEventsWorker) Work(ctx context.Context, _ *river.Job[PruneEventsArgs]) error {
	retention := w.deps.EventRetention
	if retention == 0 {
		retention = DefaultEventRetention
	}
	now := w.deps.Now()
	_, err := w.deps.Store.PruneEvents(ctx, now.Add(-retention), now.Add(-w.deps.Webhooks.Schedule().Horizon()), 1000)
	return err
}

// addWebhookJobs registers the workers and periodic jobs above. Without a
// Deliverer in deps, one with the defaults (and the guard on) is used.
func addWebhookJobs(workers *river.Workers, deps *Deps) []*river.PeriodicJob {
	if deps.Webhooks == nil {
		deps.Webhooks = webhooks.New(webhooks.Options{Store: deps.Store})
	}
	river.AddWorker(workers, &deliverWorker{deps: deps})
	river.AddWorker(workers, &dispatchWorker{deps: deps})
	river.AddWorker(workers, &pruneEventsWorker{deps: deps})
	return []*river.PeriodicJob{
		periodic(time.Minute, DispatchDeliveriesArgs{}, &river.PeriodicJobOpts{RunOnStart: true}),
		periodic(time.Hour, PruneEventsArgs{}, nil),
	}
}
