package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// arm is one load level against one target: the sandbox PG directly (the
// floor) or POST /v1/payments through billingd.
type arm struct {
	name            string
	floor           bool
	m               *merchant
	rate            float64
	warmup, measure time.Duration
	profile         bool          // collect billingd's profiles over the window
	webhooks        bool          // the sandbox notifies billingd of paid charges
	memEvery        time.Duration // sample billingd's memory this often (soak)
	staircase       bool          // a staircase step: stopping early means "not sustained"
}

type memSample struct {
	at        time.Duration // since the window opened
	heap, rss float64       // bytes
	goroutine float64
	// Latency of the arrivals since the previous sample (soak).
	p99, appP50, appP99 float64 // ms
}

type armResult struct {
	arm
	armStats
	tokens        int     // getToken calls the sandbox saw during the arm
	rtPerCharge   float64 // billingd's database round trips per charge; NaN for the floor
	stmtPerCharge float64 // pg_stat_statements calls per charge
	cpu           cpuUse
	mem           []memSample // at the window's start and end (and every memEvery)
	backlog       int64       // jobs available or running as the window closed
	overloaded    string      // why the arm was stopped early, if it was
	statements    []statement
	sustained     bool
}

// runArm drives one arm and observes billingd and Postgres over its
// measured window.
func (s *stack) runArm(ctx context.Context, a arm) (armResult, error) {
	res := armResult{arm: a, rtPerCharge: math.NaN(), stmtPerCharge: math.NaN()}
	fire, err := s.requester(ctx, a)
	if err != nil {
		return res, err
	}
	total := a.warmup + a.measure
	samples := make([]sample, arrivals(a.rate, total))
	tokensBefore := a.m.sandbox.tokenCalls()
	start := time.Now().Add(50 * time.Millisecond)

	// Observations at the edges of the measured window.
	var (
		obsWG          sync.WaitGroup
		cpuA, cpuB     cpuSnap
		metA, metB     promSample
		stmts          []statement
		stmtCalls      int64
		obsErr         error
		profileStopped = make(chan struct{})
	)
	obsWG.Add(1)
	go func() {
		defer obsWG.Done()
		sleepUntil(ctx, start.Add(a.warmup))
		s.resetStatements(ctx)
		cpuA = s.cpu()
		if !a.floor {
			metA, obsErr = scrape(ctx, s.billingd.base)
			res.mem = append(res.mem, memOf(0, metA))
		}
		if a.profile && s.opts.profileDir != "" {
			go func() {
				defer close(profileStopped)
				secs := max(int(a.measure.Seconds())-1, 1)
				s.saveProfile(ctx, fmt.Sprintf("profile?seconds=%d", secs), "cpu-"+slug(a.name)+".pprof")
			}()
		} else {
			close(profileStopped)
		}
		if a.memEvery > 0 {
			for t := a.memEvery; t < a.measure; t += a.memEvery {
				sleepUntil(ctx, start.Add(a.warmup+t))
				if p, err := scrape(ctx, s.billingd.base); err == nil {
					res.mem = append(res.mem, memOf(t, p))
				}
			}
		}
		sleepUntil(ctx, start.Add(total))
		cpuB = s.cpu()
		if !a.floor {
			var err error
			if metB, err = scrape(ctx, s.billingd.base); err != nil && obsErr == nil {
				obsErr = err
			}
			res.mem = append(res.mem, memOf(a.measure, metB))
			res.backlog = s.jobBacklog(ctx)
		}
		stmts, stmtCalls = s.readStatements(ctx)
	}()

	// An arm beyond what billingd sustains would pile up requests without
	// bound (open loop): once more are in flight than a sustained arm can
	// have, the schedule stops and the arm counts as overloaded.
	schedCtx, stopSchedule := context.WithCancel(ctx)
	defer stopSchedule()
	var inflight atomic.Int64
	limit := int64(min(a.rate*(s.opts.maxP99.Seconds()+1), 6000))
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-schedCtx.Done():
				return
			case <-tick.C:
				if n := inflight.Load(); n > limit {
					res.overloaded = fmt.Sprintf("stopped after %.1f s: %d requests in flight", time.Since(start).Seconds(), n)
					stopSchedule()
					return
				}
			}
		}
	}()
	openLoop(schedCtx, start, a.rate, total, func(i int, at time.Time) {
		inflight.Add(1)
		defer inflight.Add(-1)
		sent := time.Now()
		out := fire(i)
		done := time.Now()
		samples[i] = sample{at: at, done: done, lat: done.Sub(at), lag: sent.Sub(at), outcome: out}
	})
	stopSchedule()
	obsWG.Wait()
	<-profileStopped
	if obsErr != nil {
		return res, fmt.Errorf("%s: read billingd's metrics: %w", a.name, obsErr)
	}
	if a.profile && s.opts.profileDir != "" {
		s.saveProfile(ctx, "heap", "heap-"+slug(a.name)+".pprof")
		s.saveProfile(ctx, "allocs", "allocs-"+slug(a.name)+".pprof")
	}

	res.armStats = summarise(samples, a.rate, start, a.warmup, a.measure)
	for i := 1; i < len(res.mem); i++ {
		from, to := res.mem[i-1].at, res.mem[i].at
		w := summarise(samples, a.rate, start, a.warmup+from, to-from)
		res.mem[i].p99, res.mem[i].appP50, res.mem[i].appP99 = w.P99, w.AppP50, w.AppP99
	}
	res.tokens = a.m.sandbox.tokenCalls() - tokensBefore
	res.cpu = cpuBetween(cpuA, cpuB)
	charges := res.Achieved * a.measure.Seconds()
	if !a.floor && charges > 0 {
		if _, ok := metB["billingd_db_round_trips_total"]; ok { // older billingd binaries lack it
			res.rtPerCharge = (metB.sum("billingd_db_round_trips_total") - metA.sum("billingd_db_round_trips_total")) / charges
		}
		if s.statements {
			res.stmtPerCharge = float64(stmtCalls) / charges
			res.statements = stmts
		}
	}
	res.sustained = res.overloaded == "" && res.Errors == 0 && res.Achieved >= 0.97*a.rate && res.P99 < s.opts.maxP99.Seconds()*1000
	return res, nil
}

// requester returns the function that sends arrival i of an arm.
func (s *stack) requester(ctx context.Context, a arm) (func(i int) outcome, error) {
	client := s.loadClient
	m := a.m
	n := len(m.keys)
	run := randomHex(4)
	if a.floor && m.portone != nil {
		return m.portone.floorRequester(ctx, client, m.sandbox.url, run), nil
	}
	if a.floor {
		token, err := sandboxToken(ctx, m)
		if err != nil {
			return nil, err
		}
		url := m.sandbox.url + "/subscribe/payments/again"
		return func(i int) outcome {
			body := fmt.Sprintf(`{"customer_uid":%q,"merchant_uid":"floor_%s_%d","amount":1000,"name":"bench"}`, m.customerUIDs[i%n], run, i)
			req, _ := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			return send(client, req, http.StatusOK, []byte(`"status":"paid"`))
		}, nil
	}
	url := s.billingd.base + "/v1/payments"
	return func(i int) outcome {
		body := fmt.Sprintf(`{"billing_key_id":%q,"amount":1000,"order_name":"bench"}`, m.keys[i%n])
		req, _ := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+m.secret)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", fmt.Sprintf("bench-%s-%d", run, i))
		return send(client, req, http.StatusCreated, []byte(`"status":"paid"`))
	}, nil
}

// send does one request; it succeeded when the status is want and the body
// contains mustContain.
func send(client *http.Client, req *http.Request, want int, mustContain []byte) outcome {
	resp, err := client.Do(req)
	if err != nil {
		msg := err.Error()
		if i := strings.LastIndex(msg, ": "); i >= 0 {
			msg = msg[i+2:] // the cause, without the URL
		}
		return outcome{appMS: -1, err: msg}
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	out := outcome{appMS: appTime(resp.Header.Get("Server-Timing"))}
	switch {
	case err != nil:
		out.err = "read body: " + err.Error()
	case resp.StatusCode != want:
		out.err = fmt.Sprintf("HTTP %d %.120s", resp.StatusCode, body)
	case !bytes.Contains(body, mustContain):
		out.err = fmt.Sprintf("unexpected body %.120s", body)
	default:
		out.ok = true
	}
	return out
}

func memOf(at time.Duration, p promSample) memSample {
	return memSample{at: at, heap: p.sum("go_memstats_heap_inuse_bytes"), rss: p.sum("process_resident_memory_bytes"),
		goroutine: p.sum("go_goroutines")}
}

// jobBacklog counts River jobs waiting to run or running.
func (s *stack) jobBacklog(ctx context.Context) int64 {
	conn, err := pgx.Connect(ctx, s.dbURL)
	if err != nil {
		return -1
	}
	defer conn.Close(ctx)
	var n int64
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE state IN ('available', 'running', 'retryable')`).Scan(&n); err != nil {
		return -1
	}
	return n
}

// drainJobs waits (up to limit) until no job is waiting, so one arm's
// background work (PG notifications to verify) does not run in the next.
func (s *stack) drainJobs(ctx context.Context, limit time.Duration) (time.Duration, int64) {
	start := time.Now()
	for {
		n := s.jobBacklog(ctx)
		if n <= 0 || time.Since(start) > limit || ctx.Err() != nil {
			return time.Since(start), n
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func (s *stack) saveProfile(ctx context.Context, what, file string) {
	req, _ := http.NewRequestWithContext(ctx, "GET", s.billingd.debug+"/debug/pprof/"+what, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		logf("profile %s: %v", what, err)
		return
	}
	defer resp.Body.Close()
	f, err := os.Create(filepath.Join(s.opts.profileDir, file))
	if err != nil {
		logf("profile %s: %v", what, err)
		return
	}
	defer f.Close()
	_, _ = io.Copy(f, resp.Body)
}

func sleepUntil(ctx context.Context, t time.Time) {
	select {
	case <-ctx.Done():
	case <-time.After(time.Until(t)):
	}
}

func slug(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return '-'
	}, s)
}
