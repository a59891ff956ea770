package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// What a run observes besides latencies: CPU per process group (from
// /proc), billingd's own counters (from /metrics) and Postgres's statement
// statistics (pg_stat_statements, when loaded).

const clockTicks = 100 // USER_HZ: /proc reports CPU time in these on Linux

// procCPU returns a process's user+system CPU time, and with children
// set also that of its children it has waited for.
func procCPU(pid int, children bool) (time.Duration, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name (field 2) may hold spaces: fields count from ')'.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 15 {
		return 0, false
	}
	sum := 0
	idx := []int{11, 12} // utime, stime (fields 14, 15)
	if children {
		idx = append(idx, 13, 14) // cutime, cstime
	}
	for _, i := range idx {
		v, _ := strconv.Atoi(f[i])
		sum += v
	}
	return time.Duration(sum) * time.Second / clockTicks, true
}

// parentOf returns a process's parent pid.
func parentOf(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// cpuSnap is CPU consumed so far by billingd, Postgres (the postmaster,
// its live children, and the children it reaped) and this process (load
// generator and sandbox PGs).
type cpuSnap struct {
	at                   time.Time
	billingd, pg, bench  time.Duration
	haveBillingd, havePG bool
}

func (s *stack) cpu() cpuSnap {
	snap := cpuSnap{at: time.Now()}
	if s.billingd != nil && s.billingd.pid > 0 {
		snap.billingd, snap.haveBillingd = procCPU(s.billingd.pid, false)
	}
	snap.bench, _ = procCPU(os.Getpid(), false)
	if s.postmasterPID > 0 {
		total, ok := procCPU(s.postmasterPID, true)
		if ok {
			snap.havePG = true
			entries, _ := os.ReadDir("/proc")
			for _, e := range entries {
				pid, err := strconv.Atoi(e.Name())
				if err != nil || parentOf(pid) != s.postmasterPID {
					continue
				}
				if d, ok := procCPU(pid, false); ok {
					total += d
				}
			}
			snap.pg = total
		}
	}
	return snap
}

// cpuUse is cores used between two snapshots.
type cpuUse struct{ billingd, pg, bench float64 }

func cpuBetween(a, b cpuSnap) cpuUse {
	wall := b.at.Sub(a.at).Seconds()
	u := cpuUse{billingd: -1, pg: -1, bench: (b.bench - a.bench).Seconds() / wall}
	if a.haveBillingd && b.haveBillingd {
		u.billingd = (b.billingd - a.billingd).Seconds() / wall
	}
	if a.havePG && b.havePG {
		u.pg = (b.pg - a.pg).Seconds() / wall
	}
	return u
}

// findPostmaster reads the server's pid from postmaster.pid, when the
// server runs on this machine and its data directory is readable.
func findPostmaster(ctx context.Context, serverURL string) int {
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return 0
	}
	defer conn.Close(ctx)
	var dir string
	if err := conn.QueryRow(ctx, "SHOW data_directory").Scan(&dir); err != nil {
		return 0
	}
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(line))
	return pid
}

// promSample is one scrape of billingd's /metrics: series text (name with
// labels) to value.
type promSample map[string]float64

func scrape(ctx context.Context, base string) (promSample, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return parseProm(resp.Body)
}

func parseProm(r io.Reader) (promSample, error) {
	out := promSample{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		out[line[:i]] = v
	}
	return out, sc.Err()
}

// sum adds every series of a metric name, whatever its labels.
func (p promSample) sum(name string) float64 {
	var total float64
	for k, v := range p {
		if k == name || strings.HasPrefix(k, name+"{") {
			total += v
		}
	}
	return total
}

// statement is one row of pg_stat_statements.
type statement struct {
	query  string
	calls  int64
	meanMS float64
	total  float64 // ms
}

// resetStatements clears pg_stat_statements (all databases).
func (s *stack) resetStatements(ctx context.Context) {
	if !s.statements {
		return
	}
	// The extension's functions and view live in billingd's database.
	if conn, err := pgx.Connect(ctx, s.dbURL); err == nil {
		_, _ = conn.Exec(ctx, "SELECT pg_stat_statements_reset()")
		conn.Close(ctx)
	}
}

// readStatements returns billingd's database's statements, most called
// first, and the total number of calls.
func (s *stack) readStatements(ctx context.Context) ([]statement, int64) {
	if !s.statements {
		return nil, 0
	}
	conn, err := pgx.Connect(ctx, s.dbURL)
	if err != nil {
		return nil, 0
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT query, calls, mean_exec_time, total_exec_time FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1) AND query NOT LIKE '%pg_stat_statements%'
		ORDER BY calls DESC, total_exec_time DESC`, s.dbName)
	if err != nil {
		return nil, 0
	}
	var out []statement
	var total int64
	for rows.Next() {
		var st statement
		if err := rows.Scan(&st.query, &st.calls, &st.meanMS, &st.total); err == nil {
			out = append(out, st)
			total += st.calls
		}
	}
	return out, total
}

// maintenance counts what Postgres did in the background so far:
// checkpoints, autovacuum and autoanalyze runs (of billingd's tables).
func (s *stack) maintenance(ctx context.Context) []float64 {
	conn, err := pgx.Connect(ctx, s.dbURL)
	if err != nil {
		return nil
	}
	defer conn.Close(ctx)
	var c, v, a float64
	err = conn.QueryRow(ctx, `SELECT (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter),
		(SELECT coalesce(sum(autovacuum_count), 0) FROM pg_stat_user_tables),
		(SELECT coalesce(sum(autoanalyze_count), 0) FROM pg_stat_user_tables)`).Scan(&c, &v, &a)
	if err != nil {
		return nil
	}
	return []float64{c, v, a}
}
