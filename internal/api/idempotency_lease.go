package api

import (
	"context"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// A key's lock is a lease: the request holding it renews it every
// idempotencyRenewEvery while it runs, and a lock not renewed for
// idempotencyLease belongs to a run whose process died (kill -9, OOM), so
// the next request with the key takes it over and resumes from the
// recovery point. The lease, not the longest a request may run, bounds how
// long a retry after a crash waits: seconds, not minutes. Taking over is
// safe even from a live run that lost its database for a lease: a charge's
// order id is fixed before the PG hears of it, so the resumed run
// reconciles that order instead of charging again.
const (
	idempotencyLease      = 15 * time.Second
	idempotencyRenewEvery = idempotencyLease / 3
)

// renewLease keeps the key's lease alive while the request runs, once the
// key is claimed (a charge claims it with its payment, after the run
// starts), and returns the function that stops renewing: it returns once
// no renewal is under way, so none lands after the key is settled. Nearly
// every request ends before the first renewal is due, and costs nothing.
func (s *Server) renewLease(ctx context.Context, run *idempotencyRun) (stop func()) {
	done, stopped := make(chan struct{}), make(chan struct{})
	ctx = context.WithoutCancel(ctx) // a client that hung up leaves the run going
	go func() {
		defer close(stopped)
		tick := time.NewTicker(idempotencyRenewEvery)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			if run.pending != nil && !run.pending.Claimed() {
				continue
			}
			rctx, cancel := context.WithTimeout(ctx, idempotencyRenewEvery)
			err := s.store.RenewIdempotencyKey(rctx, run.key)
			cancel()
			if err != nil {
				zerolog.Ctx(ctx).Warn().Err(err).Msg("renew idempotency lease")
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(done); <-stopped })
	}
}
