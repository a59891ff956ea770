package sandbox

import "net/http"

type scheduleHold struct {
	arrived chan struct{}
	release chan struct{}
}

// HoldNextSchedule makes the next POST /subscribe/payments/schedule wait,
// before it records anything, until release is called (or its client gives
// up) — a registration still in flight while the merchant acts. arrived is
// closed when that request is being held.
func (s *Server) HoldNextSchedule() (arrived <-chan struct{}, release func()) {
	h := &scheduleHold{arrived: make(chan struct{}), release: make(chan struct{})}
	s.mu.Lock()
	s.faults.hold = h
	s.mu.Unlock()
	return h.arrived, func() { close(h.release) }
}

// FailUnschedule makes the next n POST /subscribe/payments/unschedule
// calls answer HTTP 500 having revoked nothing, as an Iamport in trouble.
func (s *Server) FailUnschedule(n int) {
	s.mu.Lock()
	s.faults.unscheduleErr = n
	s.mu.Unlock()
}

// holdSchedule waits out a HoldNextSchedule; false when the client gave up.
func (s *Server) holdSchedule(r *http.Request) bool {
	s.mu.Lock()
	h := s.faults.hold
	s.faults.hold = nil
	s.mu.Unlock()
	if h == nil {
		return true
	}
	close(h.arrived)
	select {
	case <-h.release:
		return true
	case <-r.Context().Done():
		return false
	}
}

// unscheduleFails consumes one FailUnschedule.
func (s *Server) unscheduleFails() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.unscheduleErr <= 0 {
		return false
	}
	s.faults.unscheduleErr--
	return true
}
