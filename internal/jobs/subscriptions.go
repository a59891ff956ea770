package jobs

import (
	"context"
	"errors"

	"github.com/riverqueue/river"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/payments"
)

// renewWorker bills a subscription's next period after its current one
// was paid.
type renewWorker struct {
	river.WorkerDefaults[payments.RenewSubscriptionArgs]
	deps *Deps
}

func (w *renewWorker) Work(ctx context.Context, job *river.Job[payments.RenewSubscriptionArgs]) error {
	return w.deps.Subscriptions.Renew(ctx, job.Args.SubscriptionID)
}

// SubscriptionTickArgs does the due subscription work of both modes:
// overdue scheduled payments, renewals not yet billed, retries, period ends.
type SubscriptionTickArgs struct{}

// Kind names the job.
func (SubscriptionTickArgs) Kind() string { return "subscription_tick" }

type tickWorker struct {
	river.WorkerDefaults[SubscriptionTickArgs]
	deps *Deps
}

func (w *tickWorker) Work(ctx context.Context, _ *river.Job[SubscriptionTickArgs]) error {
	_, liveErr := w.deps.Subscriptions.Tick(ctx, billing.ModeLive)
	_, testErr := w.deps.Subscriptions.Tick(ctx, billing.ModeTest)
	return errors.Join(liveErr, testErr)
}
