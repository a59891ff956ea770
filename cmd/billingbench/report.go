package main

import (
	"fmt"
	"io"
	"math"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"
)

func printReport(w io.Writer, s *stack, o options, results []armResult, pbRate, pb pgbenchResult, st staircase) {
	fmt.Fprintf(w, "billingbench %s — %s\n", time.Now().Format("2006-01-02 15:04"), machine())
	fmt.Fprintf(w, "postgres: %s; billingd: %s\n", s.settings, billingdSettings(o))
	fmt.Fprintf(w, "open loop, %s warm-up discarded + %s measured per arm; latency from the scheduled arrival; app = billingd's Server-Timing;\n", o.warmup, o.measure)
	fmt.Fprintf(w, "sustained = 0 errors, ≥ 97%% of the rate achieved, p99 < %s; RT = billingd's database round trips; cpu = cores busy in the window\n\n", o.maxP99)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "arm\trate/s\tachieved/s\tsustained\terrors\tp50 ms\tp90 ms\tp99 ms\tapp p50\tapp p99\ttokens\tRT/charge\tcpu billingd\tcpu postgres\tcpu loadgen+PG\tbillingd ms/charge\tpostgres ms/charge\tcapacity\t")
	row := func(r armResult) {
		sustained := "yes"
		if !r.sustained {
			sustained = "no"
		}
		bms, pms, capacity := math.NaN(), math.NaN(), math.NaN()
		if !r.floor {
			bms, pms = cpuMSPerCharge(r.cpu.billingd, r.Achieved), cpuMSPerCharge(r.cpu.pg, r.Achieved)
			capacity = cpuMSPerCharge(pb.cpu.pg, pb.tps) / (bms + pms)
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.1f\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.name, r.Target, r.Achieved, sustained, r.Errors,
			num(r.P50, 1), num(r.P90, 1), num(r.P99, 1), num(r.AppP50, 2), num(r.AppP99, 2), r.tokens, num(r.rtPerCharge, 1),
			cores(r.cpu.billingd), cores(r.cpu.pg), cores(r.cpu.bench), num(bms, 2), num(pms, 2), share(capacity))
	}
	pgbenchRow := func(name string, pb pgbenchResult) {
		rate := "–"
		if pb.rate > 0 {
			rate = fmt.Sprintf("%.0f", pb.rate)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t–\t%d\t%s\t%s\t%s\t–\t–\t–\t–\t–\t%s\t%s\t–\t%s\t–\t\n", name, rate, pb.tps, pb.failed,
			num(pb.p50, 1), num(pb.p90, 1), num(pb.p99, 1), cores(pb.cpu.pg), cores(pb.cpu.bench), num(cpuMSPerCharge(pb.cpu.pg, pb.tps), 2))
	}
	stair := false
	for _, r := range results {
		if strings.Contains(r.name, "@") && !stair {
			stair = true
			pgbenchRow(fmt.Sprintf("pgbench charge writes (%d clients)", pbRate.clients), pbRate)
			pgbenchRow(fmt.Sprintf("pgbench ceiling (%d clients)", pb.clients), pb)
		}
		row(r)
	}
	if !stair {
		pgbenchRow(fmt.Sprintf("pgbench charge writes (%d clients)", pbRate.clients), pbRate)
		pgbenchRow(fmt.Sprintf("pgbench ceiling (%d clients)", pb.clients), pb)
	}
	tw.Flush()

	fixed := find(results, func(r armResult) bool {
		return !r.floor && !r.webhooks && r.m.portone == nil && r.m.sandbox.latency == 50*time.Millisecond && !strings.Contains(r.name, "@")
	})
	hooked := find(results, func(r armResult) bool { return r.webhooks })
	fmt.Fprintln(w)
	fmt.Fprintf(w, "ms/charge = CPU-milliseconds per charge over the window (/proc; less perturbed than latencies by other load on the machine);\n")
	fmt.Fprintf(w, "capacity = the pgbench ceiling's Postgres ms/charge (%s) ÷ (billingd + its Postgres ms/charge): the share of the\n", num(cpuMSPerCharge(pb.cpu.pg, pb.tps), 2))
	fmt.Fprintf(w, "ceiling's rate the same CPU carries through billingd\n")
	ratio := math.NaN()
	if st.best != nil {
		ratio = st.best.Achieved / pb.tps
		bound := "no higher rate tried"
		if st.hi > 0 {
			bound = fmt.Sprintf("%.0f/s was not", st.hi)
		}
		fmt.Fprintf(w, "ceiling: billingd sustains %.0f charges/s with a 50 ms PG (%s) ÷ pgbench %.0f = %.0f %%\n", st.best.Achieved, bound, pb.tps, ratio*100)
	} else {
		fmt.Fprintf(w, "ceiling: billingd sustained none of the rates tried (pgbench: %.0f/s)\n", pb.tps)
	}
	for _, r := range results {
		if r.overloaded != "" {
			fmt.Fprintf(w, "  %s: %s\n", r.name, r.overloaded)
		}
	}
	if fixed != nil && len(fixed.mem) >= 2 {
		a, b := fixed.mem[0], fixed.mem[len(fixed.mem)-1]
		fmt.Fprintf(w, "memory (billingd, %s): heap in use %.1f → %.1f MiB, RSS %.1f → %.1f MiB, goroutines %.0f → %.0f over %s (-soak 5m for the long run)\n",
			fixed.name, mib(a.heap), mib(b.heap), mib(a.rss), mib(b.rss), a.goroutine, b.goroutine, o.measure)
	}
	var billingdTokens, tokenArms int
	var accounts = map[string]bool{}
	for _, r := range results {
		if !r.floor && r.m.portone == nil { // PortOne V2 has no tokens
			billingdTokens += r.tokens
			tokenArms++
			accounts[r.m.id] = true
		}
	}
	fmt.Fprintf(w, "PG tokens: billingd asked for %d during %d Iamport arms on %d accounts (each account's one token came at setup; the floor arms fetch their own)\n",
		billingdTokens, tokenArms, len(accounts))
	if fixed != nil && len(fixed.statements) > 0 {
		fmt.Fprintf(w, "\nstatements per charge, %s (pg_stat_statements, billingd's database; %.1f per charge in all):\n", fixed.name, fixed.stmtPerCharge)
		charges := fixed.Achieved * fixed.measure.Seconds()
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  per charge\tmean ms\tstatement")
		for i, st := range fixed.statements {
			if i == 14 {
				break
			}
			fmt.Fprintf(tw, "  %.2f\t%.3f\t%s\n", float64(st.calls)/charges, st.meanMS, shortSQL(st.query, 110))
		}
		tw.Flush()
	}

	fmt.Fprintln(w, "\ntargets (2 cores, 50 ms PG):")
	check := func(ok bool, format string, args ...any) {
		mark := "MISS"
		if ok {
			mark = "met "
		}
		fmt.Fprintf(w, "  [%s] %s\n", mark, fmt.Sprintf(format, args...))
	}
	check(ratio >= 0.6, "billingd sustains ≥ 60 %% of the pgbench ceiling with 0 errors: %s", pct(ratio))
	selfTime := func(r *armResult) {
		check(r.AppP50 <= 3 && r.AppP99 <= 10 && r.Errors == 0, "self time at %.0f/s, %s: p50 %.2f ms (≤ 3), p99 %.2f ms (≤ 10), %d errors",
			r.Target, r.name, r.AppP50, r.AppP99, r.Errors)
	}
	if fixed != nil {
		selfTime(fixed)
	}
	if hooked != nil {
		selfTime(hooked)
		fmt.Fprintf(w, "         (%d PG notifications still waiting to be verified as the window closed)\n", hooked.backlog)
	}
	check(billingdTokens == 0, "getToken once per account per 30 minutes: %d more during the arms", billingdTokens)
	fmt.Fprintln(w, "  [ -- ] memory flat over a 5-minute soak: go run ./cmd/billingbench -soak 5m")
}

func printSoak(w io.Writer, s *stack, r armResult, pg string) {
	fmt.Fprintf(w, "billingbench -soak %s — %s\n", r.measure, machine())
	fmt.Fprintf(w, "postgres: %s; PG webhooks %s; billingd: %s\n\n", s.settings, onOff(s.opts.webhooks), billingdSettings(s.opts))
	fmt.Fprintf(w, "%.0f charges/s with a 50 ms PG (latency columns: the arrivals since the previous row): achieved %.1f/s, %d errors, p50 %.1f ms, p99 %.1f ms, app p50 %.2f ms, app p99 %.2f ms, %.1f round trips/charge, %d getToken\n\n",
		r.Target, r.Achieved, r.Errors, r.P50, r.P99, r.AppP50, r.AppP99, r.rtPerCharge, r.tokens)
	if len(r.FirstErrors) > 0 {
		fmt.Fprintf(w, "errors: %s\n\n", strings.Join(r.FirstErrors, "; "))
	}
	if r.backlog > 0 {
		fmt.Fprintf(w, "%d jobs (PG notifications to verify) waiting as the soak ended\n\n", r.backlog)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "t\theap in use MiB\tRSS MiB\tgoroutines\tp99 ms\tapp p50\tapp p99\t")
	for i, m := range r.mem {
		lat := "–\t–\t–"
		if i > 0 {
			lat = fmt.Sprintf("%s\t%s\t%s", num(m.p99, 1), num(m.appP50, 2), num(m.appP99, 2))
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.0f\t%s\t\n", m.at.Round(time.Second), mib(m.heap), mib(m.rss), m.goroutine, lat)
	}
	tw.Flush()
	if n := len(r.mem); n >= 4 {
		// GC makes single samples jumpy; a leak shows as a climb from one
		// half to the next and as a slope.
		first, second := r.mem[:n/2], r.mem[n/2:]
		rng := func(ms []memSample, f func(memSample) float64) (lo, hi float64) {
			lo, hi = math.Inf(1), math.Inf(-1)
			for _, m := range ms {
				lo, hi = math.Min(lo, f(m)), math.Max(hi, f(m))
			}
			return mib(lo), mib(hi)
		}
		heap := func(m memSample) float64 { return m.heap }
		rss := func(m memSample) float64 { return m.rss }
		h1lo, h1hi := rng(first, heap)
		h2lo, h2hi := rng(second, heap)
		r1lo, r1hi := rng(first, rss)
		r2lo, r2hi := rng(second, rss)
		fmt.Fprintf(w, "\nheap in use: first half %.1f–%.1f MiB, second half %.1f–%.1f MiB, trend %+.2f MiB/min\n",
			h1lo, h1hi, h2lo, h2hi, slope(r.mem, heap))
		fmt.Fprintf(w, "RSS:         first half %.1f–%.1f MiB, second half %.1f–%.1f MiB, trend %+.2f MiB/min\n",
			r1lo, r1hi, r2lo, r2hi, slope(r.mem, rss))
	}
	if pg != "" {
		fmt.Fprintf(w, "postgres during the soak: %s\n", pg)
	}
}

func find(rs []armResult, f func(armResult) bool) *armResult {
	for i := range rs {
		if f(rs[i]) {
			return &rs[i]
		}
	}
	return nil
}

func num(v float64, prec int) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.*f", prec, v)
}

func cores(v float64) string {
	if v < 0 || math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.2f", v)
}

func pct(v float64) string {
	if math.IsNaN(v) {
		return "none sustained"
	}
	return fmt.Sprintf("%.0f %%", v*100)
}

func mib(b float64) float64 { return b / (1 << 20) }

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func billingdSettings(o options) string {
	if o.remote() {
		return "driven remotely at " + o.billingdURL + " (its own settings)"
	}
	if len(o.env) == 0 {
		return "defaults"
	}
	return strings.Join(o.env, " ")
}

var spaces = regexp.MustCompile(`\s+`)

func shortSQL(q string, n int) string {
	q = spaces.ReplaceAllString(strings.TrimSpace(q), " ")
	if len([]rune(q)) > n {
		q = string([]rune(q)[:n-1]) + "…"
	}
	return q
}

// msLabel names a PG latency: "50 ms".
func msLabel(d time.Duration) string { return fmt.Sprintf("%d ms", d.Milliseconds()) }

// slope is the least-squares trend of f over the samples, in MiB per minute.
func slope(ms []memSample, f func(memSample) float64) float64 {
	var n, sx, sy, sxx, sxy float64
	for _, m := range ms {
		x, y := m.at.Minutes(), mib(f(m))
		n, sx, sy, sxx, sxy = n+1, sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return math.NaN()
	}
	return (n*sxy - sx*sy) / d
}

// cpuMSPerCharge is CPU-milliseconds per charge from cores busy over a
// window and charges per second in it; NaN when either is unknown.
func cpuMSPerCharge(cores, perSecond float64) float64 {
	if cores < 0 || perSecond <= 0 || math.IsNaN(cores) {
		return math.NaN()
	}
	return cores * 1000 / perSecond
}

func share(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return fmt.Sprintf("%.0f %%", v*100)
}
