// Package clock is billingd's time: real time for live mode, and for test
// mode real time plus an offset that the sandbox test clock moves forward,
// so a year of renewals runs in seconds. Every due-time decision in billing
// code asks this clock, never time.Now.
package clock

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/billingd/billingd/internal/billing"
)

// Clock tells the time per mode.
type Clock struct {
	offset atomic.Int64 // test mode's lead over real time, in nanoseconds
	real   func() time.Time
}

// New returns a clock whose test mode runs with real time until advanced.
func New() *Clock { return &Clock{real: time.Now} }

// Now is the time for a mode: real time in live mode, always.
func (c *Clock) Now(mode billing.Mode) time.Time {
	if mode == billing.ModeTest {
		return c.TestNow()
	}
	return c.real()
}

// TestNow is test mode's time (the sandbox PGs run on it).
func (c *Clock) TestNow() time.Time {
	return c.real().Add(time.Duration(c.offset.Load()))
}

// ErrBackwards refuses moving test time back: PG schedules and billing
// periods only go forward.
var ErrBackwards = errors.New("the test clock only moves forward")

// AdvanceTestTo moves test mode's time to t.
func (c *Clock) AdvanceTestTo(t time.Time) error {
	for {
		old := c.offset.Load()
		now := c.real().Add(time.Duration(old))
		if t.Before(now) {
			return ErrBackwards
		}
		if c.offset.CompareAndSwap(old, int64(t.Sub(c.real()))) {
			return nil
		}
	}
}
