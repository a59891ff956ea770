package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/billingd/billingd/internal/payments"
)

// revokeWorker revokes a canceled or paused subscription's scheduled
// payment at the PG until the PG confirms (see payments.Revoke).
type revokeWorker struct {
	river.WorkerDefaults[payments.RevokeScheduleArgs]
	deps *Deps
}

func (w *revokeWorker) Work(ctx context.Context, job *river.Job[payments.RevokeScheduleArgs]) error {
	_, err := w.deps.Payments.Revoke(ctx, job.Args.PaymentID)
	return err
}

func (w *revokeWorker) NextRetry(job *river.Job[payments.RevokeScheduleArgs]) time.Time {
	return time.Now().Add(payments.RevokeBackoff(job.Attempt))
}
