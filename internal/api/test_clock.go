package api

import (
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/billingd/billingd/internal/audit"
	"github.com/billingd/billingd/internal/billing"
)

// The sandbox test clock: test-mode keys only, and only where the operator
// enabled it (BILLINGD_TEST_CLOCK; billingd dev does), since it moves test
// time for every test-mode merchant of this billingd.

func (s *Server) testClockAllowed(w http.ResponseWriter, r *http.Request) bool {
	if principalFrom(r.Context()).Mode != billing.ModeTest {
		renderError(w, r, &billing.Error{Code: billing.EForbidden, Reason: "test_mode_only", Message: "the test clock exists in test mode only"})
		return false
	}
	if s.testClock == nil {
		renderError(w, r, &billing.Error{Code: billing.EForbidden, Reason: "test_clock_disabled",
			Message: "the test clock is disabled on this billingd (BILLINGD_TEST_CLOCK=true enables it)"})
		return false
	}
	return true
}

type testClockJSON struct {
	Object string    `json:"object"`
	Now    time.Time `json:"now"`
	Steps  int       `json:"steps"`
	Work   int       `json:"work"`
}

func (s *Server) getTestClock(w http.ResponseWriter, r *http.Request) {
	if !s.testClockAllowed(w, r) {
		return
	}
	writeJSON(w, http.StatusOK, testClockJSON{Object: "test_clock", Now: s.testClock.Now()})
}

func (s *Server) advanceTestClock(w http.ResponseWriter, r *http.Request) {
	var in struct {
		To      *time.Time `json:"to"`
		Seconds *int64     `json:"seconds"`
	}
	if err := decodeJSON(r, &in); err != nil {
		renderError(w, r, err)
		return
	}
	if !s.testClockAllowed(w, r) {
		return
	}
	var to time.Time
	switch {
	case in.To != nil && in.Seconds == nil:
		to = *in.To
	case in.Seconds != nil && in.To == nil && *in.Seconds > 0 && *in.Seconds <= 5*366*24*3600:
		to = s.testClock.Now().Add(time.Duration(*in.Seconds) * time.Second)
	default:
		renderError(w, r, billing.Invalid("to", "give either to (an RFC 3339 time) or seconds (1 to 5 years' worth)"))
		return
	}
	res, err := s.testClock.AdvanceTo(r.Context(), to)
	if err != nil {
		renderError(w, r, err)
		return
	}
	// The advance is many transactions and moves an in-memory clock, so its
	// audit row is written after it, on its own; a failure to write it is
	// logged, not answered: the clock has moved either way.
	p := principalFrom(r.Context())
	if err := s.store.RecordAudit(r.Context(), audit.Change{MerchantID: p.MerchantID, Mode: string(p.Mode),
		Action: "test_clock.advanced", ObjectType: "test_clock", ObjectID: "test_clock",
		Summary: map[string]any{"test_time": res.Now.UTC().Format(time.RFC3339)}}); err != nil {
		zerolog.Ctx(r.Context()).Error().Err(err).Msg("audit test clock advance")
	}
	writeJSON(w, http.StatusOK, testClockJSON{Object: "test_clock", Now: res.Now, Steps: res.Steps, Work: res.Work})
}
