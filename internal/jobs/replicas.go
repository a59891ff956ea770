package jobs

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/billingd/billingd/internal/store"
)

// Several replicas share one queue. River finds a job left running by a
// killed replica only after RescueStuckJobsAfter; billingd finds it in
// seconds: every replica heartbeats its River client id, and every replica
// hands back to the queue the running jobs of a client whose heartbeat is
// older than DeadAfter. The sweeps (stale payments, PG notifications,
// subscription tick) insert unique jobs, so until then a dead replica's job
// would also hide the work from them.
const (
	HeartbeatInterval = 2 * time.Second
	// DeadAfter is how long a replica may miss heartbeats before its
	// running jobs are run elsewhere. A replica that is only slow (a stalled
	// database connection) may see its job run twice: every worker is
	// idempotent, and the schema holds one payment per order and period.
	DeadAfter = 15 * time.Second
	// RescueInterval is how often each replica looks for dead ones.
	RescueInterval = 5 * time.Second
)

// Liveness is one replica's heartbeat and rescue loop.
type Liveness struct {
	store    *store.Store
	clientID string
	log      zerolog.Logger
	cancel   context.CancelFunc
	done     chan struct{}
}

// StartLiveness registers the replica whose River client is clientID and
// keeps it alive until Stop. The first heartbeat is written before it
// returns, so the replica is never taken for dead while starting.
func StartLiveness(ctx context.Context, st *store.Store, clientID string, log zerolog.Logger) (*Liveness, error) {
	if err := st.Heartbeat(ctx, clientID); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	l := &Liveness{store: st, clientID: clientID, log: log, cancel: cancel, done: make(chan struct{})}
	go l.run(ctx)
	return l, nil
}

func (l *Liveness) run(ctx context.Context) {
	defer close(l.done)
	beat := time.NewTicker(HeartbeatInterval)
	defer beat.Stop()
	rescue := time.NewTicker(RescueInterval)
	defer rescue.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-beat.C:
			if err := l.store.Heartbeat(ctx, l.clientID); err != nil && ctx.Err() == nil {
				l.log.Warn().Err(err).Msg("replica heartbeat")
			}
		case <-rescue.C:
			n, err := l.store.RescueJobsOfDeadReplicas(ctx, DeadAfter)
			if err != nil && ctx.Err() == nil {
				l.log.Warn().Err(err).Msg("rescue jobs of dead replicas")
			}
			if n > 0 {
				l.log.Warn().Int64("jobs", n).Msg("jobs of a dead replica handed back to the queue")
			}
		}
	}
}

// Stop ends the heartbeat and, the queue being stopped already, marks the
// replica gone, so a job it could not finish runs elsewhere at once.
func (l *Liveness) Stop(ctx context.Context) {
	l.cancel()
	<-l.done
	if err := l.store.ReplicaStopped(ctx, l.clientID); err != nil {
		l.log.Warn().Err(err).Msg("mark replica stopped")
	}
}
