package sandbox

import "sync/atomic"

// faults are toggles for what the amount table cannot express: a lost
// reply to a reservation, and feedback webhooks that never arrive.
type faults struct {
	reserveReplyLost atomic.Int64 // reservations whose reply is a 500
	hooksOff         atomic.Bool
}

// LoseReserveReplies makes the next n reservations (v1 and v2) record the
// reservation and then answer 500 INTERNAL_SERVER_ERROR: the client never
// learns the reserve_id of a reservation that will run.
func (s *Server) LoseReserveReplies(n int) { s.faults.reserveReplyLost.Store(int64(n)) }

// SetWebhooksEnabled drops feedback webhooks (false) or sends them again
// (true): a merchant endpoint Bootpay cannot reach.
func (s *Server) SetWebhooksEnabled(on bool) { s.faults.hooksOff.Store(!on) }

// reserveReplyLost consumes one LoseReserveReplies.
func (s *Server) reserveReplyLost() bool {
	for {
		n := s.faults.reserveReplyLost.Load()
		if n <= 0 {
			return false
		}
		if s.faults.reserveReplyLost.CompareAndSwap(n, n-1) {
			return true
		}
	}
}
