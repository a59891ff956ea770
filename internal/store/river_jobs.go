package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// JobCount is how many River jobs of one queue are in one state.
type JobCount struct {
	Queue string
	State string
	Count int64
}

// JobCounts counts River's unfinished jobs by queue and state, for the
// queue-depth gauge. Finished jobs are left out: River prunes them, and
// their count says nothing about a backlog.
func (s *Store) JobCounts(ctx context.Context) ([]JobCount, error) {
	rows, err := s.pool.Query(ctx, `SELECT queue, state::text, count(*) FROM river_job
		WHERE state IN ('available', 'scheduled', 'retryable', 'running', 'pending')
		GROUP BY queue, state ORDER BY queue, state`)
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (JobCount, error) {
		var c JobCount
		err := row.Scan(&c.Queue, &c.State, &c.Count)
		return c, err
	})
}
