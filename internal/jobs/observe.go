package jobs

import (
	"context"
	"errors"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/billingd/billingd/internal/metrics"
	"github.com/billingd/billingd/internal/store"
)

// observeHooks count every worked job by kind and outcome
// (billingd_jobs_worked_total). A panicking job skips River's work-end
// hooks and is not counted here; River logs it. The queue's depth is read
// from the database at scrape time instead (metrics.RegisterQueueDepth).
func observeHooks(m *metrics.Metrics) []rivertype.Hook {
	if m == nil {
		return nil
	}
	return []rivertype.Hook{river.HookWorkEndFunc(func(_ context.Context, job *rivertype.JobRow, err error) error {
		m.ObserveJob(job.Kind, jobOutcome(err))
		return err
	})}
}

func jobOutcome(err error) string {
	var (
		cancel *rivertype.JobCancelError
		snooze *rivertype.JobSnoozeError
	)
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &cancel):
		return "cancel"
	case errors.As(err, &snooze):
		return "snooze"
	}
	return "error"
}

// QueueDepth reads the job queue's depth from st, for
// metrics.RegisterQueueDepth.
func QueueDepth(st *store.Store) metrics.QueueCounter {
	return func(ctx context.Context) ([]metrics.QueueCount, error) {
		counts, err := st.JobCounts(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]metrics.QueueCount, len(counts))
		for i, c := range counts {
			out[i] = metrics.QueueCount{Queue: c.Queue, State: c.State, Count: c.Count}
		}
		return out, nil
	}
}
