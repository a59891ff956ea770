package store

import (
	"context"
	"fmt"
	"time"
)

// Heartbeat records that the replica whose River client is clientID is
// alive now.
func (s *Store) Heartbeat(ctx context.Context, clientID string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO replicas (client_id) VALUES ($1)
		ON CONFLICT (client_id) DO UPDATE SET heartbeat_at = now()`, clientID)
	if err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	return nil
}

// ReplicaStopped marks a replica as gone at once (a graceful stop): jobs
// it could not finish go back to the queue on the next rescue, not after
// the heartbeat times out.
func (s *Store) ReplicaStopped(ctx context.Context, clientID string) error {
	_, err := s.pool.Exec(ctx, `UPDATE replicas SET heartbeat_at = now() - interval '1 hour' WHERE client_id = $1`, clientID)
	if err != nil {
		return fmt.Errorf("mark replica stopped: %w", err)
	}
	return nil
}

// RescueJobsOfDeadReplicas hands back to the queue every River job still
// marked running by a registered replica whose last heartbeat is older
// than deadAfter: that replica was killed, and nothing else would touch the
// job until River's own stuck-job rescue. A job with attempts left becomes
// available now; one without is discarded, as River's rescuer does. Jobs
// of clients that never registered are left to River. It also forgets
// replicas silent for a day. It returns how many jobs it moved.
func (s *Store) RescueJobsOfDeadReplicas(ctx context.Context, deadAfter time.Duration) (int64, error) {
	tag, err := s.pool.Exec(ctx, `
		WITH dead AS (
			SELECT client_id FROM replicas WHERE heartbeat_at < now() - make_interval(secs => $1)
		)
		UPDATE river_job j SET
			state = CASE WHEN j.attempt < j.max_attempts THEN 'available' ELSE 'discarded' END::river_job_state,
			scheduled_at = CASE WHEN j.attempt < j.max_attempts THEN now() ELSE j.scheduled_at END,
			finalized_at = CASE WHEN j.attempt < j.max_attempts THEN NULL ELSE now() END,
			errors = array_append(j.errors, jsonb_build_object('at', now(), 'attempt', j.attempt,
				'error', 'rescued: replica ' || j.attempted_by[cardinality(j.attempted_by)] || ' stopped heartbeating', 'trace', ''))
		FROM dead
		WHERE j.state = 'running' AND j.attempted_by[cardinality(j.attempted_by)] = dead.client_id`,
		deadAfter.Seconds())
	if err != nil {
		return 0, fmt.Errorf("rescue jobs of dead replicas: %w", err)
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM replicas WHERE heartbeat_at < now() - interval '1 day'`); err != nil {
		return tag.RowsAffected(), fmt.Errorf("forget old replicas: %w", err)
	}
	return tag.RowsAffected(), nil
}
