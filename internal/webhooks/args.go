package webhooks

import (
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// DeliverArgs is the River job of one delivery: one per (event, endpoint),
// enqueued in the transaction that created the delivery, and one more per
// resend (Run). A job whose Run is not the delivery's current one was
// superseded and does nothing.
type DeliverArgs struct {
	DeliveryID string `json:"delivery_id"`
	Run        int    `json:"run"`
}

// Kind names the job.
func (DeliverArgs) Kind() string { return "deliver_webhook" }

// InsertOpts keeps one live job per delivery run, with an attempt per step
// of the default schedule.
func (DeliverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		MaxAttempts: DefaultSchedule.MaxAttempts(),
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
			rivertype.JobStateRunning, rivertype.JobStateScheduled,
		}},
	}
}
