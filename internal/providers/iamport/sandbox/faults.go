package sandbox

import (
	"net/http"
	"time"
)

// faults are switches a test flips while the sandbox runs; s.mu guards them.
type faults struct {
	slowReply  time.Duration // overrides Options.SlowReply when positive
	findStatus int           // non-zero: GET /payments/find answers this HTTP status

	// The schedule routes': a registration held in flight, and unschedule
	// calls that fail (schedule_faults.go).
	hold          *scheduleHold // the next schedule request waits on it
	unscheduleErr int           // this many unschedule calls answer 500
}

// SetSlowReply changes how long a charge whose amount ends in 5 holds its
// reply, so a test can have the PG answer after its client hung up but
// before billingd's PG timeout. Zero restores Options.SlowReply.
func (s *Server) SetSlowReply(d time.Duration) {
	s.mu.Lock()
	s.faults.slowReply = d
	s.mu.Unlock()
}

// SetFindFailure makes every lookup by merchant_uid (GET /payments/find/…)
// fail with the given HTTP status and {code:-1}, like an Iamport outage
// that spares the rest of the API; 0 restores normal answers.
func (s *Server) SetFindFailure(status int) {
	s.mu.Lock()
	s.faults.findStatus = status
	s.mu.Unlock()
}

func (s *Server) slowReply() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.slowReply > 0 {
		return s.faults.slowReply
	}
	return s.opts.SlowReply
}

// findFailed answers a lookup by merchant_uid with the configured failure.
func (s *Server) findFailed(w http.ResponseWriter) bool {
	s.mu.Lock()
	status := s.faults.findStatus
	s.mu.Unlock()
	if status == 0 {
		return false
	}
	fail(w, status, -1, "일시적인 오류가 발생했습니다. 잠시 후 다시 시도해주세요.")
	return true
}
