package jobs

import (
	"context"

	"github.com/riverqueue/river"
)

// PruneNotificationWindowsArgs deletes the per-account counts of PG
// notifications about unknown payments once their window is over.
type PruneNotificationWindowsArgs struct{}

// Kind names the job.
func (PruneNotificationWindowsArgs) Kind() string { return "prune_notification_windows" }

type pruneNotificationWindowsWorker struct {
	river.WorkerDefaults[PruneNotificationWindowsArgs]
	deps *Deps
}

func (w *pruneNotificationWindowsWorker) Work(ctx context.Context, _ *river.Job[PruneNotificationWindowsArgs]) error {
	return w.deps.Payments.PruneNotificationWindows(ctx)
}
