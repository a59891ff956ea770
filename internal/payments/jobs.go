package payments

import (
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// ReconcileArgs asks the PG what became of a payment (and of its refund in
// flight) and settles it. One job per payment at a time.
type ReconcileArgs struct {
	PaymentID string `json:"payment_id"`
}

// Kind names the job.
func (ReconcileArgs) Kind() string { return "reconcile_payment" }

// InsertOpts keeps one live job per payment and retries for weeks: an
// unknown outcome is never given up on silently.
func (ReconcileArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		MaxAttempts: ReconcileMaxAttempts,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
			rivertype.JobStateRunning, rivertype.JobStateScheduled,
		}},
	}
}

// ReconcileMaxAttempts bounds the reconcile schedule (about two weeks).
const ReconcileMaxAttempts = 20

// ReconcileBackoff is the reconcile schedule: 1 m, 5 m, 30 m, 2 h, then
// daily. attempt counts from 1.
func ReconcileBackoff(attempt int) time.Duration {
	steps := []time.Duration{time.Minute, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour}
	if attempt >= 1 && attempt <= len(steps) {
		return steps[attempt-1]
	}
	return 24 * time.Hour
}

// ApplyNotificationArgs verifies one stored PG notification against the
// PG's API and applies what the PG says.
type ApplyNotificationArgs struct {
	NotificationID string `json:"notification_id"`
}

// Kind names the job.
func (ApplyNotificationArgs) Kind() string { return "apply_pg_notification" }

// InsertOpts retries a while: the PG's API may be briefly unreachable.
// Verifications run in a queue of their own (NotificationQueue).
func (ApplyNotificationArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 12, Queue: NotificationQueue, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// RenewSubscriptionArgs bills a subscription's next period after its
// current one was paid: with Iamport and Bootpay that means registering
// the next charge at the PG now, to run at the period's start.
type RenewSubscriptionArgs struct {
	SubscriptionID string `json:"subscription_id"`
}

// Kind names the job.
func (RenewSubscriptionArgs) Kind() string { return "renew_subscription" }

// InsertOpts keeps one live renewal per subscription. A renewal needed
// while one runs is left to the subscription tick's catch-up.
func (RenewSubscriptionArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 25, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
		rivertype.JobStateRunning, rivertype.JobStateScheduled,
	}}}
}
