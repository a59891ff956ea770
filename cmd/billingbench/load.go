package main

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The load generator is open loop: arrivals follow a fixed schedule
// (arrival i at start + i/rate) whatever the server does, each in its own
// goroutine, so a slow server meets more concurrent requests instead of
// fewer requests (no coordinated omission). Latency is measured from the
// scheduled arrival, so a generator that fell behind is charged to the
// measurement, not hidden by it.

// outcome is what one request came back with.
type outcome struct {
	ok    bool
	appMS float64 // billingd's self time from Server-Timing; -1 when absent
	err   string  // why it failed, for the error summary
}

// sample is one arrival of the schedule.
type sample struct {
	at   time.Time     // scheduled arrival
	done time.Time     // response read (zero: never finished)
	lat  time.Duration // done - at
	lag  time.Duration // how late the request went out
	outcome
}

// openLoop calls fire for every arrival of a schedule of rate per second
// from start over total, each in a new goroutine, and returns once the
// schedule is over (or ctx ends) and every fired call has returned. fire
// gets the arrival's index and scheduled time. It returns how many
// arrivals it fired.
func openLoop(ctx context.Context, start time.Time, rate float64, total time.Duration, fire func(i int, at time.Time)) int {
	n := arrivals(rate, total)
	interval := time.Duration(float64(time.Second) / rate)
	var wg sync.WaitGroup
	i := 0
	for ; i < n; i++ {
		at := start.Add(time.Duration(i) * interval)
		if d := time.Until(at); d > 0 {
			// Behind schedule, nothing waits: the late arrivals go out at
			// once and keep the rate.
			select {
			case <-ctx.Done():
				wg.Wait()
				return i
			case <-time.After(d):
			}
		}
		wg.Add(1)
		go func(i int, at time.Time) {
			defer wg.Done()
			fire(i, at)
		}(i, at)
	}
	wg.Wait()
	return i
}

// arrivals is how many arrivals a schedule of rate per second has in total.
func arrivals(rate float64, total time.Duration) int {
	return int(math.Floor(rate * total.Seconds()))
}

// armStats summarises one arm's samples: latency over the arrivals of the
// measured window (after warm-up), throughput as responses completed in that
// window, errors over the whole arm, warm-up included.
type armStats struct {
	Target, Achieved float64 // per second
	Sent, Errors     int
	P50, P90, P99    float64 // ms, measured window
	AppP50, AppP99   float64 // ms, Server-Timing app; NaN without it
	LagP99           float64 // ms: how late the generator sent, p99 of the window
	FirstErrors      []string
}

func summarise(samples []sample, rate float64, start time.Time, warmup, measure time.Duration) armStats {
	st := armStats{Target: rate}
	from, to := start.Add(warmup), start.Add(warmup+measure)
	var lat, app, lag []float64
	completed := 0
	errs := map[string]int{}
	for _, s := range samples {
		if s.at.IsZero() {
			continue // never sent: the arm was stopped
		}
		st.Sent++
		if !s.ok {
			st.Errors++
			if s.err == "" {
				s.err = "no response"
			}
			errs[s.err]++
			continue
		}
		if !s.done.Before(from) && s.done.Before(to) {
			completed++
		}
		if s.at.Before(from) || !s.at.Before(to) {
			continue
		}
		lat = append(lat, ms(s.lat))
		lag = append(lag, ms(s.lag))
		if s.appMS >= 0 {
			app = append(app, s.appMS)
		}
	}
	st.Achieved = float64(completed) / measure.Seconds()
	st.P50, st.P90, st.P99 = percentile(lat, 50), percentile(lat, 90), percentile(lat, 99)
	st.AppP50, st.AppP99 = percentile(app, 50), percentile(app, 99)
	st.LagP99 = percentile(lag, 99)
	for msg, n := range errs {
		st.FirstErrors = append(st.FirstErrors, strconv.Itoa(n)+"× "+msg)
	}
	slices.Sort(st.FirstErrors)
	if len(st.FirstErrors) > 5 {
		st.FirstErrors = st.FirstErrors[:5]
	}
	return st
}

// percentile is the nearest-rank percentile p (0 < p ≤ 100) of values, NaN
// for none. values is sorted in place.
func percentile(values []float64, p float64) float64 {
	if len(values) == 0 {
		return math.NaN()
	}
	slices.Sort(values)
	rank := int(math.Ceil(p / 100 * float64(len(values))))
	return values[min(max(rank, 1), len(values))-1]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// appTime reads billingd's own time from a Server-Timing header
// ("app;dur=3.21, pg;dur=812.40"), -1 when it is not there.
func appTime(header string) float64 {
	for _, metric := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(metric), ";")
		if name != "app" {
			continue
		}
		for _, p := range strings.Split(params, ";") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(p), "dur="); ok {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					return f
				}
			}
		}
	}
	return -1
}
