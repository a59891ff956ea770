package main

// The replica test's checks, each on the database, the sandbox PG or the
// merchant's webhook receiver once the load has settled.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/billingd/billingd/internal/providers/iamport/sandbox"
)

func checkCharges(t *testing.T, pg *sandbox.Server, db *pgxpool.Pool, results []chargeResult, n int) {
	t.Helper()
	died := 0
	for i, r := range results {
		if r.status != http.StatusCreated || r.state != "paid" {
			t.Errorf("charge %d: final answer %d %q, want 201 paid", i, r.status, r.state)
			continue
		}
		if paid := paidAttempts(pg, r.id); paid != 1 {
			t.Errorf("charge %d (%s): the PG holds %d paid attempts, want 1", i, r.id, paid)
		}
		if !r.diedAt.IsZero() {
			died++
			if took := r.answeredAt.Sub(r.diedAt); took > retriedChargeBound {
				t.Errorf("charge %d: answered %.1f s after its replica died, want within %s", i, took.Seconds(), retriedChargeBound)
			}
		}
	}
	var recorded int
	_ = db.QueryRow(context.Background(), `SELECT count(*) FROM payments WHERE subscription_id IS NULL`).Scan(&recorded)
	if recorded != n {
		t.Errorf("billingd recorded %d one-off payments for %d charges", recorded, n)
	}
	t.Logf("%d charges answered; %d of them lost their replica mid-request", n, died)
}

func paidAttempts(pg *sandbox.Server, orderID string) int {
	n := 0
	for _, p := range pg.PaymentsByOrder(orderID) {
		if p.Status == "paid" {
			n++
		}
	}
	return n
}

func checkPeriods(t *testing.T, pg *sandbox.Server, db *pgxpool.Pool, nSubs int) {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT s.id, s.current_period,
		(SELECT array_agg(p.id || ':' || p.period || ':' || p.status ORDER BY p.period) FROM payments p WHERE p.subscription_id = s.id)
		FROM subscriptions s`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := 0
	for rows.Next() {
		var (
			id       string
			current  int
			payments []string
		)
		if err := rows.Scan(&id, &current, &payments); err != nil {
			t.Fatal(err)
		}
		seen++
		var paid0, sched1 int
		for _, p := range payments {
			parts := strings.SplitN(p, ":", 3)
			switch {
			case parts[1] == "0" && parts[2] == "paid":
				paid0++
				if n := paidAttempts(pg, parts[0]); n != 1 {
					t.Errorf("subscription %s period 0 (%s): the PG charged %d times", id, parts[0], n)
				}
			case parts[1] == "1" && parts[2] == "scheduled":
				sched1++
			default:
				t.Errorf("subscription %s has payment %s", id, p)
			}
		}
		if current != 0 || paid0 != 1 || sched1 != 1 {
			t.Errorf("subscription %s: current period %d, %d paid period-0 payments, %d registered period-1 payments; want 0, 1, 1",
				id, current, paid0, sched1)
		}
	}
	if seen != nSubs {
		t.Errorf("%d subscriptions in the database, want %d", seen, nSubs)
	}
}

// checkPeriodicJobs: no two runs of one periodic job overlapped, on any
// replica (River's rows keep each run's start and end).
func checkPeriodicJobs(t *testing.T, db *pgxpool.Pool) {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT kind, attempted_at, finalized_at, attempted_by FROM river_job
		WHERE kind IN ('sweep_stale_payments', 'subscription_tick', 'sweep_pg_notifications', 'expire_registrations',
			'prune_idempotency_keys', 'prune_notification_windows', 'dispatch_webhook_deliveries', 'prune_events')
			AND attempted_at IS NOT NULL
		ORDER BY kind, attempted_at`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var (
		lastKind string
		lastEnd  *time.Time
		runs     int
	)
	for rows.Next() {
		var (
			kind  string
			start time.Time
			end   *time.Time
			by    []string
		)
		if err := rows.Scan(&kind, &start, &end, &by); err != nil {
			t.Fatal(err)
		}
		runs++
		if kind == lastKind && (lastEnd == nil || start.Before(*lastEnd)) {
			t.Errorf("%s: a run started at %s (by %v) while the previous one ran until %v", kind, start.Format(time.StampMilli), by, lastEnd)
		}
		lastKind, lastEnd = kind, end
	}
	t.Logf("%d periodic job runs, none overlapping another of its kind", runs)
}

// checkNothingUnknown: a payment whose outcome is not known has a
// reconcile job waiting.
func checkNothingUnknown(t *testing.T, db *pgxpool.Pool) {
	t.Helper()
	var orphans []string
	rows, err := db.Query(context.Background(), `SELECT p.id FROM payments p WHERE p.status IN ('unknown', 'processing')
		AND NOT EXISTS (SELECT 1 FROM river_job j WHERE j.kind = 'reconcile_payment' AND j.args->>'payment_id' = p.id
			AND j.state IN ('available', 'scheduled', 'retryable', 'running', 'pending'))`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		_ = rows.Scan(&id)
		orphans = append(orphans, id)
	}
	if len(orphans) > 0 {
		t.Errorf("payments left unknown or processing with no reconcile job: %v", orphans)
	}
}

// hookSink is the merchant's webhook receiver: it answers 200 and keeps
// every webhook-id it saw with the event it carried.
type hookSink struct {
	srv    *httptest.Server
	mu     sync.Mutex
	events map[string]string // webhook-id → event id
	clash  []string
}

func newHookSink(t *testing.T) *hookSink {
	h := &hookSink{events: map[string]string{}}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev struct {
			ID string `json:"id"`
		}
		_ = json.NewDecoder(r.Body).Decode(&ev)
		id := r.Header.Get("webhook-id")
		h.mu.Lock()
		if old, ok := h.events[id]; ok && old != ev.ID {
			h.clash = append(h.clash, fmt.Sprintf("%s carried %s and %s", id, old, ev.ID))
		}
		h.events[id] = ev.ID
		h.mu.Unlock()
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// check: every delivery billingd made reached the receiver under its own
// id, and an id never carried two events.
func (h *hookSink) check(t *testing.T, db *pgxpool.Pool) {
	t.Helper()
	waitUntil(t, 2*time.Minute, func() bool {
		var pending int
		_ = db.QueryRow(context.Background(), `SELECT count(*) FROM webhook_deliveries WHERE state <> 'delivered'`).Scan(&pending)
		return pending == 0
	})
	rows, err := db.Query(context.Background(), `SELECT id, event_id FROM webhook_deliveries`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for rows.Next() {
		var id, event string
		if err := rows.Scan(&id, &event); err != nil {
			t.Fatal(err)
		}
		n++
		if got, ok := h.events[id]; !ok {
			t.Errorf("delivery %s (event %s) is marked delivered but never arrived", id, event)
		} else if got != event {
			t.Errorf("delivery %s arrived carrying event %s, want %s", id, got, event)
		}
	}
	for _, c := range h.clash {
		t.Error(c)
	}
	t.Logf("%d webhook deliveries, each received under its webhook-id", n)
}

// replicaDiagnostics summarizes payments and jobs for a failure message.
func replicaDiagnostics(db *pgxpool.Pool) string {
	var b strings.Builder
	for _, q := range []string{
		`SELECT coalesce(period::text, '-') || ' ' || status, count(*) FROM payments GROUP BY 1 ORDER BY 1`,
		`SELECT kind || ' ' || state::text, count(*) FROM river_job GROUP BY 1 ORDER BY 1`,
		`SELECT coalesce(outcome, 'none') || ' ' || (verify_after IS NOT NULL)::text, count(*) FROM pg_notifications GROUP BY 1 ORDER BY 1`,
	} {
		rows, err := db.Query(context.Background(), q)
		if err != nil {
			fmt.Fprintf(&b, "%v; ", err)
			continue
		}
		for rows.Next() {
			var k string
			var n int
			_ = rows.Scan(&k, &n)
			fmt.Fprintf(&b, "%s=%d; ", k, n)
		}
		rows.Close()
	}
	return b.String()
}
