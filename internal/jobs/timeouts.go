package jobs

import (
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/billingd/billingd/internal/payments"
)

// Job time budgets. A job that calls a PG needs one PG call plus the
// writes that record its answer; River cancels a job's context past its
// timeout (the PG call itself runs detached and is recorded or left
// unknown, never guessed). River's own rescue of a job that is still
// marked running must come after the longest per-call budget, or it would
// run a live job twice; a dead replica's jobs come back much sooner
// through Liveness.
func jobTimeout(pgTimeout time.Duration) time.Duration {
	return pgTimeout + payments.RecordTimeout + 10*time.Second
}

func rescueAfter(pgTimeout time.Duration) time.Duration {
	return jobTimeout(pgTimeout) + 30*time.Second
}

// sweepTimeout bounds the periodic jobs that walk many rows, each with its
// own PG call at payments.Concurrency at a time (the subscription tick,
// SweepDueSchedules first): what is left when it ends is the next run's.
const sweepTimeout = 5 * time.Minute

// periodic is a periodic job that never overlaps itself: while one is
// queued or running (on any replica) the leader inserts no other, and one
// that fails is not retried (the next period runs it anyway).
func periodic(interval time.Duration, args river.JobArgs, opts *river.PeriodicJobOpts) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(interval), func() (river.JobArgs, *river.InsertOpts) {
		return args, &river.InsertOpts{MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateScheduled,
		}}}
	}, opts)
}

// Timeout lets the tick work through a due batch; it never overlaps
// itself (periodic).
func (w *tickWorker) Timeout(*river.Job[SubscriptionTickArgs]) time.Duration { return sweepTimeout }
