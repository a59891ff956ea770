package main

import (
	"math"
	"strings"
	"testing"
	"time"
)

// TestEmptyArm: an arm stopped in its warm-up summarises as the row the
// issue saw (achieved 0.0/s, 0 errors, NaN latencies), and is refused; so
// is an arm that sent nothing. An arm with completions in its window is not.
func TestEmptyArm(t *testing.T) {
	t.Parallel()
	start := time.Unix(1_000_000, 0)
	warmup, measure := 5*time.Second, 15*time.Second
	const rate = 500
	samples := make([]sample, arrivals(rate, warmup+measure))
	// The watchdog stopped the schedule 1.3 s into the warm-up: what was
	// sent completed, all of it before the window opened.
	for i := range 650 {
		at := start.Add(time.Duration(i) * time.Second / rate)
		samples[i] = sample{at: at, done: at.Add(time.Second), lat: time.Second, outcome: outcome{ok: true, appMS: 1}}
	}
	r := armResult{arm: arm{name: "billingd 0 ms", measure: measure}, armStats: summarise(samples, rate, start, warmup, measure),
		overloaded: "stopped after 1.3 s: 626 requests in flight"}
	if r.Achieved != 0 || r.Errors != 0 || !math.IsNaN(r.P50) {
		t.Fatalf("stopped in the warm-up: achieved %v, %d errors, p50 %v; want the issue's empty row", r.Achieved, r.Errors, r.P50)
	}
	if why := emptyArm(r); !strings.Contains(why, "completed nothing") || !strings.Contains(why, "626 requests in flight") {
		t.Fatalf("emptyArm = %q", why)
	}

	none := armResult{arm: arm{name: "billingd 0 ms", measure: measure},
		armStats: summarise(make([]sample, len(samples)), rate, start, warmup, measure)}
	if why := emptyArm(none); !strings.Contains(why, "sent nothing") {
		t.Fatalf("nothing sent: emptyArm = %q", why)
	}

	for i := range samples {
		at := start.Add(time.Duration(i) * time.Second / rate)
		samples[i] = sample{at: at, done: at.Add(3 * time.Millisecond), lat: 3 * time.Millisecond, outcome: outcome{ok: true, appMS: 1}}
	}
	ok := armResult{arm: arm{name: "billingd 0 ms", measure: measure}, armStats: summarise(samples, rate, start, warmup, measure)}
	if why := emptyArm(ok); why != "" || ok.Achieved < 499 {
		t.Fatalf("a full arm: achieved %v, emptyArm = %q", ok.Achieved, why)
	}
}
