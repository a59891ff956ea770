package main

import (
	"context"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	t.Parallel()
	values := []float64{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	for _, tt := range []struct{ p, want float64 }{{50, 5}, {90, 9}, {99, 10}, {100, 10}, {1, 1}} {
		if got := percentile(values, tt.p); got != tt.want {
			t.Errorf("p%v = %v, want %v", tt.p, got, tt.want)
		}
	}
	if !math.IsNaN(percentile(nil, 50)) {
		t.Error("the percentile of nothing is not NaN")
	}
}

func TestAppTime(t *testing.T) {
	t.Parallel()
	for header, want := range map[string]float64{
		"app;dur=3.21, pg;dur=812.40": 3.21,
		"pg;dur=1, app;dur=0.50":      0.5,
		"pg;dur=1":                    -1,
		"":                            -1,
		"app;desc=x":                  -1,
	} {
		if got := appTime(header); got != want {
			t.Errorf("appTime(%q) = %v, want %v", header, got, want)
		}
	}
}

// TestOpenLoop: arrivals follow the schedule whatever the calls take; a
// slow call does not hold the next arrival back.
func TestOpenLoop(t *testing.T) {
	t.Parallel()
	const rate, total = 200.0, 300 * time.Millisecond
	var (
		mu   sync.Mutex
		seen = map[int]time.Time{}
	)
	start := time.Now()
	n := openLoop(t.Context(), start, rate, total, func(i int, at time.Time) {
		mu.Lock()
		seen[i] = at
		mu.Unlock()
		time.Sleep(50 * time.Millisecond) // slower than the 5 ms between arrivals
	})
	elapsed := time.Since(start)
	if n != 60 || len(seen) != 60 {
		t.Fatalf("%d arrivals fired, %d seen, want 60", n, len(seen))
	}
	for i, at := range seen {
		if want := start.Add(time.Duration(i) * 5 * time.Millisecond); !at.Equal(want) {
			t.Fatalf("arrival %d scheduled at %v, want %v", i, at.Sub(start), want.Sub(start))
		}
	}
	// Closed loop would take 60 × 50 ms; open loop takes the schedule
	// plus one call.
	if elapsed > total+500*time.Millisecond {
		t.Fatalf("took %s: the calls held the schedule back", elapsed)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if n := openLoop(ctx, time.Now().Add(time.Second), rate, total, func(int, time.Time) {}); n != 0 {
		t.Fatalf("a cancelled schedule fired %d arrivals", n)
	}
}

func TestSummarise(t *testing.T) {
	t.Parallel()
	start := time.Unix(1000, 0)
	var samples []sample
	// 10 per second for 3 s: 1 s warm-up, 2 s measured; the warm-up is
	// slow and the last arrival fails.
	for i := range 30 {
		at := start.Add(time.Duration(i) * 100 * time.Millisecond)
		lat := 10 * time.Millisecond
		if i < 10 {
			lat = time.Second
		}
		s := sample{at: at, done: at.Add(lat), lat: lat, outcome: outcome{ok: true, appMS: 2}}
		if i == 29 {
			s.outcome = outcome{appMS: -1, err: "HTTP 500"}
		}
		samples = append(samples, s)
	}
	samples = append(samples, sample{}) // never sent
	st := summarise(samples, 10, start, time.Second, 2*time.Second)
	if st.Sent != 30 || st.Errors != 1 || !strings.Contains(st.FirstErrors[0], "HTTP 500") {
		t.Fatalf("sent %d, errors %d %v", st.Sent, st.Errors, st.FirstErrors)
	}
	if st.P99 != 10 || st.AppP50 != 2 {
		t.Fatalf("p99 %v ms, app p50 %v ms: the warm-up was not discarded", st.P99, st.AppP50)
	}
	// Completed inside [1 s, 3 s): the warm-up's late ones (done at 1.0 to
	// 1.9 s) and 19 measured ones.
	if st.Achieved != 14.5 {
		t.Fatalf("achieved %v/s, want 14.5", st.Achieved)
	}
}

func TestParseProm(t *testing.T) {
	t.Parallel()
	p, err := parseProm(strings.NewReader(`# HELP x y
# TYPE billingd_db_round_trips_total counter
billingd_db_round_trips_total 1234
go_memstats_heap_inuse_bytes 5.5e+06
billingd_pg_token_refreshes_total{provider="iamport"} 2
billingd_pg_token_refreshes_total{provider="bootpay"} 1
`))
	if err != nil {
		t.Fatal(err)
	}
	if p.sum("billingd_db_round_trips_total") != 1234 || p.sum("go_memstats_heap_inuse_bytes") != 5.5e6 ||
		p.sum("billingd_pg_token_refreshes_total") != 3 || p.sum("billingd_db") != 0 {
		t.Fatalf("parsed %v", p)
	}
}

func TestStaircase(t *testing.T) {
	t.Parallel()
	st := staircase{tps: 1000, lo: 500}
	arm := func(rate float64, ok bool) *armResult {
		return &armResult{armStats: armStats{Target: rate}, sustained: ok}
	}
	// Up by 20 % of the ceiling while sustained, then bisect.
	if next := st.next(arm(600, true)); next != 800 {
		t.Fatalf("after 600 sustained: %v, want 800", next)
	}
	if next := st.next(arm(800, false)); next != 700 {
		t.Fatalf("after 800 not: %v, want 700", next)
	}
	if next := st.next(arm(700, true)); next != 750 {
		t.Fatalf("after 700 sustained: %v, want 750", next)
	}
	if next := st.next(arm(750, false)); next != 0 || st.lo != 700 || st.best.Target != 700 {
		t.Fatalf("after 750 not: next %v, best %v", next, st.lo)
	}
}
