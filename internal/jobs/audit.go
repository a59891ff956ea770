package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// PruneAuditArgs deletes audit rows past their retention.
type PruneAuditArgs struct{}

// Kind names the job.
func (PruneAuditArgs) Kind() string { return "prune_audit_events" }

type pruneAuditWorker struct {
	river.WorkerDefaults[PruneAuditArgs]
	deps *Deps
}

// Work deletes in bounded batches until none is left, so a first run over
// years of rows does not hold one huge transaction.
func (w *pruneAuditWorker) Work(ctx context.Context, _ *river.Job[PruneAuditArgs]) error {
	if w.deps.AuditRetention <= 0 {
		return nil
	}
	before := w.deps.Now().Add(-w.deps.AuditRetention)
	for {
		n, err := w.deps.Store.PruneAuditEvents(ctx, before, 1000)
		if err != nil || n < 1000 {
			return err
		}
	}
}

func addAuditJobs(workers *river.Workers, deps *Deps) []*river.PeriodicJob {
	river.AddWorker(workers, &pruneAuditWorker{deps: deps})
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return PruneAuditArgs{}, nil }, nil),
	}
}
