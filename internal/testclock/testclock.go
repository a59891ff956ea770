// Package testclock moves test mode forward in time: the sandbox PGs'
// clock and every due-time decision of billingd together, so a year of
// renewals runs in seconds. Live mode never moves.
//
// Advancing is a discrete-event walk: the clock jumps to the next moment
// anything is due (a scheduled payment, a retry, a period end), the
// sandbox runs what is due and sends its webhooks, billingd applies them
// and does its own due work, and so on until the target time. Nothing due
// in between is skipped, and each step sees the previous step's results.
package testclock

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/clock"
	"github.com/billingd/billingd/internal/payments"
	"github.com/billingd/billingd/internal/subscriptions"
)

// Sandbox is the PG side: it runs what is due on its (the test) clock.
type Sandbox interface {
	RunDue(ctx context.Context) error
}

// Advancer advances the test clock.
type Advancer struct {
	clock    *clock.Clock
	sandbox  Sandbox
	payments *payments.Service
	subs     *subscriptions.Service
	mu       sync.Mutex // one advance at a time
}

// New returns an Advancer.
func New(c *clock.Clock, sb Sandbox, p *payments.Service, s *subscriptions.Service) *Advancer {
	return &Advancer{clock: c, sandbox: sb, payments: p, subs: s}
}

// MaxSteps bounds one advance; a walk that needs more is refused rather
// than left running (10,000 steps is daily billing for 27 years).
const MaxSteps = 10_000

// Result says what an advance did.
type Result struct {
	Now   time.Time `json:"now"`
	Steps int       `json:"steps"`
	Work  int       `json:"work"` // payments settled, renewals, retries and period ends done
}

// Now is test mode's time.
func (a *Advancer) Now() time.Time { return a.clock.TestNow() }

// AdvanceTo walks test time forward to t.
func (a *Advancer) AdvanceTo(ctx context.Context, t time.Time) (Result, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if t.Before(a.clock.TestNow()) {
		return Result{}, billing.Invalid("to", "the test clock only moves forward (it is %s)", a.clock.TestNow().UTC().Format(time.RFC3339))
	}
	var res Result
	for res.Steps = 0; ; res.Steps++ {
		if res.Steps >= MaxSteps {
			return res, billing.Invalid("to", "advancing that far takes more than %d steps; advance in smaller jumps", MaxSteps)
		}
		work, err := a.runDue(ctx)
		res.Work += work
		if err != nil {
			return res, err
		}
		next, err := a.subs.NextDue(ctx, billing.ModeTest, a.clock.TestNow())
		if err != nil {
			return res, err
		}
		if next == nil || next.After(t) {
			break
		}
		if err := a.moveTo(*next); err != nil {
			return res, err
		}
	}
	if err := a.moveTo(t); err != nil {
		return res, err
	}
	work, err := a.runDue(ctx)
	res.Work += work
	res.Now = a.clock.TestNow()
	return res, err
}

// moveTo moves test time to t unless it is there already: test time runs
// on with real time, so work that takes longer than what is left of the
// jump carries it past t, which is where the advance was going.
func (a *Advancer) moveTo(t time.Time) error {
	err := a.clock.AdvanceTestTo(t)
	if errors.Is(err, clock.ErrBackwards) {
		return nil
	}
	return err
}

// maxRounds bounds runDue. Each round settles up to a batch of each kind
// of due work (1,000 notifications and schedules, 500 renewals), so this is
// far beyond any wave a test makes; a wave that still leaves work is an
// error, never an answer that looks settled.
const maxRounds = 1000

// runDue lets the sandbox run what is due, applies its webhooks, asks the
// PG about schedules it ran whose webhook billingd did not take, and does
// billingd's own due work — repeated while it keeps producing work, since
// a renewal charged now can make a retry or another renewal due at once,
// and each call settles one batch.
func (a *Advancer) runDue(ctx context.Context) (int, error) {
	total := 0
	for range maxRounds {
		if err := a.sandbox.RunDue(ctx); err != nil {
			return total, fmt.Errorf("sandbox: %w", err)
		}
		applied, err := a.payments.ApplyPendingNotifications(ctx, billing.ModeTest)
		if err != nil {
			return total, err
		}
		// Only once the PG's own notifications are all applied: a schedule
		// they settle needs no look-up (two PG calls) of its own.
		settled := 0
		if applied == 0 {
			if settled, err = a.payments.SettleRunSchedules(ctx, billing.ModeTest); err != nil {
				return total, err
			}
		}
		done, err := a.subs.Tick(ctx, billing.ModeTest)
		if err != nil {
			return total, err
		}
		total += applied + settled + done
		if applied+settled+done == 0 {
			return total, nil
		}
	}
	return total, fmt.Errorf("test clock: due work still running after %d rounds (%d done); advance again to finish it", maxRounds, total)
}
