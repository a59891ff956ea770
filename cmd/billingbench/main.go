// Command billingbench measures billingd's charge path end to end and
// prints one table. From the module root:
//
//	go run ./cmd/billingbench             the standard run, under 5 minutes on 2 cores
//	go run ./cmd/billingbench -soak 5m    billingd's memory over a soak at -rate with a 50 ms PG
//
// It starts a throwaway Postgres (internal/pgcluster, with pg_stat_statements
// loaded; DATABASE_URL names a server instead, on which it creates and drops
// a database), builds and runs `billingd serve` as a child process configured
// like production through BILLINGD_*, and serves sandbox Iamports with a
// fixed reply latency (0 ms and 50 ms) on loopback. Then, each with an
// open-loop load generator at a fixed arrival rate, warm-up discarded:
//
//   - floor: the same charges straight at the sandbox PG
//     (POST /subscribe/payments/again), what any client of that PG pays;
//   - billingd: POST /v1/payments with distinct Idempotency-Keys;
//   - pgbench: one charge's writes as billingd makes them, at the same rate
//     and then as fast as they go (the Postgres ceiling of this machine);
//   - a staircase with the 50 ms PG from -ceiling-share of that ceiling:
//     the highest rate billingd sustains;
//   - billingd with the 50 ms PG notifying it of every paid charge, as
//     Iamport does (-pg-webhooks=false leaves this arm out);
//   - a floor and billingd pair on a sandbox PortOne V2 with a 50 ms
//     latency (POST /payments/{paymentId}/billing-key), also in -quick
//     (-portone=false leaves it out).
//
// It stops by itself: every arm is bounded in time, and one that piles up
// more requests than a sustained rate could is cut short. See
// docs/benchmarks.md for the method and the results.
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"
)

type options struct {
	rate            float64
	warmup, measure time.Duration
	latencies       []time.Duration
	ceilingShare    float64
	steps           int
	pgbenchTime     time.Duration
	pgbenchClients  int
	webhooks        bool
	portone         bool
	durable         bool
	customers       int
	maxP99          time.Duration
	soak            time.Duration
	profileDir      string
	binary          string
	env             []string
	keep            bool
	quick           bool
	// Remote driving (remote.go).
	billingdURL, billingdDebugURL string
	databaseURL, adminToken       string
	billingdPID                   int
	sandboxHost                   string
}

func main() {
	var o options
	var lat, env string
	flag.Float64Var(&o.rate, "rate", 500, "charges per second of the fixed-rate arms")
	flag.DurationVar(&o.warmup, "warmup", 5*time.Second, "warm-up of each arm, not measured")
	flag.DurationVar(&o.measure, "measure", 15*time.Second, "measured window of each arm")
	flag.StringVar(&lat, "latencies", "0ms,50ms", "sandbox PG reply latencies, one pair of floor and billingd arms each")
	flag.Float64Var(&o.ceilingShare, "ceiling-share", 0.6, "first rate of the staircase, as a share of the pgbench ceiling")
	flag.IntVar(&o.steps, "steps", 3, "staircase steps at most (each +20% of the ceiling while sustained)")
	flag.DurationVar(&o.pgbenchTime, "pgbench-time", 15*time.Second, "pgbench duration")
	flag.IntVar(&o.pgbenchClients, "pgbench-clients", 8, "pgbench clients")
	flag.BoolVar(&o.webhooks, "pg-webhooks", true, "end with an arm in which the sandbox notifies billingd of each paid charge, as Iamport does")
	flag.BoolVar(&o.portone, "portone", true, "add a floor and billingd arm on a sandbox PortOne V2 with a 50 ms latency")
	flag.BoolVar(&o.durable, "durable", false, "run Postgres with fsync and full_page_writes on (default: off, like every throwaway cluster; synchronous_commit is on either way)")
	flag.IntVar(&o.customers, "customers", 64, "customers (each with an active billing key) per merchant")
	flag.DurationVar(&o.maxP99, "max-p99", 250*time.Millisecond, "an arm is sustained with 0 errors, ≥ 97% of its rate achieved and p99 under this")
	flag.DurationVar(&o.soak, "soak", 0, "instead of the standard run: one arm of this length at -rate with a 50 ms PG (PG webhooks per -pg-webhooks), memory sampled every 30 s")
	flag.StringVar(&o.profileDir, "profile", "", "save billingd's CPU, heap and allocation profiles of the fixed-rate 50 ms arm here")
	flag.StringVar(&o.binary, "billingd", "", "a billingd binary to run instead of building ./cmd/billingd")
	flag.StringVar(&env, "env", "", "extra BILLINGD_* settings for billingd, comma-separated (BILLINGD_DB_MAX_CONNS=40,…)")
	flag.BoolVar(&o.quick, "quick", false, "the fixed-rate arms only, progress lines only (for trying settings)")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (billingd's log, pgbench's files)")
	flag.StringVar(&o.billingdURL, "billingd-url", "", "drive the billingd at this URL instead of starting one (needs -database-url and -admin-token; see docs/benchmarks.md)")
	flag.StringVar(&o.billingdDebugURL, "billingd-debug-url", "", "with -billingd-url: its BILLINGD_DEBUG_ADDR as a URL, for -profile")
	flag.StringVar(&o.databaseURL, "database-url", "", "with -billingd-url: billingd's database (pgbench, statement counts, job backlog)")
	flag.StringVar(&o.adminToken, "admin-token", os.Getenv("BILLINGBENCH_ADMIN_TOKEN"), "with -billingd-url: its BILLINGD_ADMIN_TOKEN (default $BILLINGBENCH_ADMIN_TOKEN)")
	flag.IntVar(&o.billingdPID, "billingd-pid", 0, "with -billingd-url: billingd's pid when it runs on this machine, for its CPU")
	flag.StringVar(&o.sandboxHost, "sandbox-host", "127.0.0.1", "address the sandbox PGs listen on; billingd must reach it (their base_url)")
	flag.Parse()
	if err := o.checkRemote(); err != nil {
		fmt.Fprintln(os.Stderr, "billingbench:", err)
		os.Exit(2)
	}
	for _, s := range strings.Split(lat, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			fmt.Fprintln(os.Stderr, "billingbench: -latencies:", err)
			os.Exit(2)
		}
		o.latencies = append(o.latencies, d)
	}
	if env != "" {
		o.env = strings.Split(env, ",")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "billingbench:", err)
		os.Exit(1)
	}
}

var began = time.Now()

// logf reports progress on stderr; the table goes to stdout.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%6.1fs] %s\n", time.Since(began).Seconds(), fmt.Sprintf(format, args...))
}

func run(ctx context.Context, o options) (err error) {
	tmp, err := os.MkdirTemp("", "billingbench-")
	if err != nil {
		return err
	}
	if o.keep {
		logf("keeping %s", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	if o.profileDir != "" {
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			return err
		}
	}
	s := &stack{opts: o, tmp: tmp, loadClient: newClient(30 * time.Second)}

	if o.remote() {
		logf("driving the billingd at %s (its database: -database-url)", o.billingdURL)
		if err := s.useRemote(ctx); err != nil {
			return err
		}
		s.postmasterPID = findPostmaster(ctx, s.serverURL)
	} else {
		logf("building billingd")
		bin, err := s.buildBillingd(ctx)
		if err != nil {
			return err
		}
		logf("starting postgres")
		if err := s.startPostgres(ctx); err != nil {
			return err
		}
		defer s.stopPostgres()
		s.postmasterPID = findPostmaster(ctx, s.serverURL)
		logf("starting billingd (log: %s)", s.billingdLog())
		if err := s.startBillingd(ctx, bin); err != nil {
			return err
		}
		defer s.stopBillingd()
	}

	merchants := map[time.Duration]*merchant{}
	latencies := o.latencies
	if o.soak > 0 {
		latencies = []time.Duration{50 * time.Millisecond}
	}
	for _, l := range latencies {
		sb, err := startSandbox(o.sandboxHost, l, o.webhooks)
		if err != nil {
			return err
		}
		defer sb.close()
		logf("setting up a merchant on the %s sandbox: %d customers with active billing keys", msLabel(l), o.customers)
		m, err := s.setupMerchant(ctx, sb, o.customers)
		if err != nil {
			return err
		}
		merchants[l] = m
	}

	if o.soak > 0 {
		return s.soak(ctx, merchants[50*time.Millisecond])
	}
	var portone *merchant
	if o.portone {
		sb, err := startPortoneSandbox(o.sandboxHost, 50*time.Millisecond)
		if err != nil {
			return err
		}
		defer sb.close()
		logf("setting up a merchant on the PortOne V2 %s sandbox: %d customers with active billing keys", msLabel(sb.latency), o.customers)
		if portone, err = s.setupPortoneMerchant(ctx, sb, o.customers); err != nil {
			return err
		}
	}

	var results []armResult
	runArm := func(a arm) (armResult, error) {
		logf("arm %q: %.0f/s for %s + %s", a.name, a.rate, a.warmup, a.measure)
		r, err := s.runArm(ctx, a)
		if err != nil {
			return r, err
		}
		if why := emptyArm(r); why != "" && !a.staircase {
			// A fixed-rate arm must measure something; a staircase arm
			// stopped early is a finding (not sustained) and keeps its row.
			return r, fmt.Errorf("arm %s; no row printed", why)
		}
		results = append(results, r)
		if r.overloaded != "" {
			logf("  overloaded: %s", r.overloaded)
		}
		logf("  achieved %.1f/s, %d errors, p50 %.1f ms, p99 %.1f ms, app p50 %.2f ms p99 %.2f ms, %.1f round trips/charge, cpu billingd %s postgres %s bench %s (CPU ms/charge: billingd %s, postgres %s), generator lag p99 %.1f ms, jobs waiting %d%s",
			r.Achieved, r.Errors, r.P50, r.P99, r.AppP50, r.AppP99, r.rtPerCharge, cores(r.cpu.billingd), cores(r.cpu.pg), cores(r.cpu.bench),
			num(cpuMSPerCharge(r.cpu.billingd, r.Achieved), 2), num(cpuMSPerCharge(r.cpu.pg, r.Achieved), 2), r.LagP99, r.backlog, errorsNote(r))
		if !a.floor && !a.webhooks {
			if d, n := s.drainJobs(ctx, 60*time.Second); d > time.Second {
				logf("  background jobs drained in %.1f s (%d left)", d.Seconds(), n)
			}
		}
		return r, ctx.Err()
	}

	// Fixed-rate arms without PG notifications (the charge path alone).
	for _, m := range merchants {
		m.sandbox.setWebhooks(false)
	}
	var ref *merchant // the 50 ms merchant, or the slowest
	var fixedRef *armResult
	for _, l := range latencies {
		m := merchants[l]
		ref = m
		if _, err := runArm(arm{name: "floor " + msLabel(l), floor: true, m: m, rate: o.rate, warmup: o.warmup, measure: o.measure}); err != nil {
			return err
		}
		r, err := runArm(arm{name: "billingd " + msLabel(l), m: m, rate: o.rate, warmup: o.warmup, measure: o.measure,
			profile: l == 50*time.Millisecond})
		if err != nil {
			return err
		}
		fixedRef = &r
	}

	if portone != nil {
		l := msLabel(portone.sandbox.latency)
		if _, err := runArm(arm{name: "floor portone " + l, floor: true, m: portone, rate: o.rate, warmup: o.warmup, measure: o.measure}); err != nil {
			return err
		}
		if _, err := runArm(arm{name: "billingd portone " + l, m: portone, rate: o.rate, warmup: o.warmup, measure: o.measure}); err != nil {
			return err
		}
	}

	if o.quick {
		logf("-quick: no pgbench, no staircase, no PG webhooks arm")
		return nil
	}
	logf("pgbench at %.0f/s: 20 clients for %s", o.rate, o.pgbenchTime)
	pbRate, err := s.runPgbench(ctx, ref, 20, o.rate, o.pgbenchTime)
	if err != nil {
		return err
	}
	logf("  %.0f/s, p50 %.1f ms, p99 %.1f ms, cpu postgres %s (%s ms/charge)", pbRate.tps, pbRate.p50, pbRate.p99, cores(pbRate.cpu.pg),
		num(cpuMSPerCharge(pbRate.cpu.pg, pbRate.tps), 2))
	logf("pgbench: %d clients for %s", o.pgbenchClients, o.pgbenchTime)
	pb, err := s.runPgbench(ctx, ref, o.pgbenchClients, 0, o.pgbenchTime)
	if err != nil {
		return err
	}
	logf("  ceiling %.0f charges' writes per second (%d failed), cpu postgres %s (%s ms/charge)", pb.tps, pb.failed, cores(pb.cpu.pg),
		num(cpuMSPerCharge(pb.cpu.pg, pb.tps), 2))

	// The staircase: from ceilingShare of the ceiling, up by 20 % of it
	// while billingd sustains the rate, then halving the gap between the
	// best rate sustained and the lowest one not.
	st := staircase{tps: pb.tps}
	if fixedRef != nil && fixedRef.sustained {
		st.lo, st.best = fixedRef.Target, fixedRef
	}
	rate := math.Round(pb.tps * o.ceilingShare)
	for step := 0; step < o.steps && rate > 0; step++ {
		_, err := runArm(arm{name: fmt.Sprintf("billingd %s @%.0f%%", msLabel(ref.sandbox.latency), 100*rate/pb.tps), m: ref, rate: rate,
			warmup: o.warmup, measure: o.measure, staircase: true})
		if err != nil {
			return err
		}
		rate = st.next(&results[len(results)-1])
	}

	// Last, as Iamport does it: a notification for every paid charge,
	// which billingd verifies in the background (a River job asks the PG).
	if o.webhooks {
		ref.sandbox.setWebhooks(true)
		if _, err := runArm(arm{name: "billingd " + msLabel(ref.sandbox.latency) + " + PG webhooks", m: ref, rate: o.rate,
			warmup: o.warmup, measure: o.measure, webhooks: true}); err != nil {
			return err
		}
	}

	printReport(os.Stdout, s, o, results, pbRate, pb, st)
	logf("done in %s", time.Since(began).Round(time.Second))
	return nil
}

// staircase searches the highest rate billingd sustains.
type staircase struct {
	tps    float64    // the pgbench ceiling
	lo, hi float64    // highest rate sustained, lowest not (0: none yet)
	best   *armResult // the arm that sustained lo
}

// next records an arm's outcome and returns the next rate to try, or 0
// when the gap is closed to 5 % of the ceiling.
func (st *staircase) next(r *armResult) float64 {
	if r.sustained && r.Target > st.lo {
		st.lo, st.best = r.Target, r
	}
	if !r.sustained && (st.hi == 0 || r.Target < st.hi) {
		st.hi = r.Target
	}
	var next float64
	switch {
	case st.hi == 0:
		next = st.lo + 0.2*st.tps
	default:
		next = (st.lo + st.hi) / 2
	}
	if st.hi != 0 && st.hi-st.lo <= 0.05*st.tps {
		return 0
	}
	return math.Round(next)
}

func errorsNote(r armResult) string {
	if len(r.FirstErrors) == 0 {
		return ""
	}
	return "; errors: " + strings.Join(r.FirstErrors, "; ")
}

func (s *stack) billingdLog() string { return s.tmp + "/billingd.log" }

// soak runs one long arm and prints billingd's memory over it.
func (s *stack) soak(ctx context.Context, m *merchant) error {
	before := s.maintenance(ctx)
	r, err := s.runArm(ctx, arm{name: "soak", m: m, rate: s.opts.rate, warmup: s.opts.warmup, measure: s.opts.soak,
		memEvery: 30 * time.Second})
	if err != nil {
		return err
	}
	after := s.maintenance(ctx)
	var pg string
	if before != nil && after != nil {
		pg = fmt.Sprintf("%.0f checkpoints, %.0f autovacuum and %.0f autoanalyze runs on billingd's tables",
			after[0]-before[0], after[1]-before[1], after[2]-before[2])
	}
	printSoak(os.Stdout, s, r, pg)
	return nil
}

func machine() string {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			mem = fmt.Sprintf(", %.0f GiB RAM", float64(kb)/(1<<20))
		}
	}
	return fmt.Sprintf("%d CPUs (%s)%s, %s/%s, %s", runtime.NumCPU(), model, mem, runtime.GOOS, runtime.GOARCH, runtime.Version())
}
