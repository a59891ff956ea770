package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/billingd/billingd/internal/providers/iamport/sandbox"
	"github.com/billingd/billingd/internal/store/storetest"
)

// SIGTERM to one of two replicas during a burst of charges: the charges it
// had in flight finish with their answer; one whose PG outlasts the drain
// is cut off and its retry on the other replica gets the PG's answer (the
// charge is reconciled, never made twice); new connections are refused at
// once; the replica exits within its shutdown timeout and leaves no job
// marked running under its name.
func TestSigtermDrainsChargesAndHandsOverJobs(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two billingd processes")
	}
	clearBillingdEnv(t)
	// Every PG reply takes 1 s; a charge whose amount ends in 5 holds its
	// reply for a minute, past the drain.
	pg := sandbox.New(sandbox.Options{Latency: time.Second, SlowReply: time.Minute})
	pg.SetWebhooksEnabled(false)
	pgSrv := httptest.NewServer(pg)
	t.Cleanup(pgSrv.Close)

	dbURL := storetest.NewDatabaseURL(t)
	bases := []string{"http://127.0.0.1:" + freePort(t), "http://127.0.0.1:" + freePort(t)}
	adminToken := randomHex(t, 32)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	const drain = 6 * time.Second
	env := []string{
		crashChildEnv + "=1",
		"BILLINGD_DATABASE_URL=" + dbURL,
		"BILLINGD_PUBLIC_BASE_URL=" + bases[0],
		"BILLINGD_ADMIN_TOKEN=" + adminToken,
		"BILLINGD_ENCRYPTION_KEY=" + base64.StdEncoding.EncodeToString(key),
		"BILLINGD_SANDBOX=false",
		"BILLINGD_SHUTDOWN_TIMEOUT=" + drain.String(),
		"BILLINGD_LOG_LEVEL=warn",
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BILLINGD_") && !strings.HasPrefix(kv, "DATABASE_URL=") {
			env = append(env, kv)
		}
	}
	startChild(t, append(env, "BILLINGD_LISTEN_ADDR="+strings.TrimPrefix(bases[0], "http://")), bases[0])
	leaving := startChild(t, append(env, "BILLINGD_LISTEN_ADDR="+strings.TrimPrefix(bases[1], "http://")), bases[1])
	secret, billingKey := setupCharging(t, bases[0], adminToken, pg, pgSrv.URL)

	db, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	var leavingID string
	if err := db.QueryRow(context.Background(), `SELECT client_id FROM replicas ORDER BY started_at DESC LIMIT 1`).Scan(&leavingID); err != nil {
		t.Fatal(err)
	}

	// The burst, all on the replica that will leave.
	const n = 12
	type answer struct {
		status int
		state  string
		err    error
	}
	answers := make([]answer, n+1)
	var wg sync.WaitGroup
	for i := range n + 1 {
		amount := 1000 + 10*i
		if i == n {
			amount = 1005 // the slow one
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := fmt.Sprintf(`{"billing_key_id":%q,"amount":%d,"order_name":"burst"}`, billingKey, amount)
			got, status, err := postJSON(bases[1], "/v1/payments", secret, body, "burst-"+strconv.Itoa(i))
			state, _ := got["status"].(string)
			answers[i] = answer{status, state, err}
		}()
	}
	waitUntil(t, 30*time.Second, func() bool { return pg.Calls("POST /subscribe/payments/again") == n+1 })
	if err := leaving.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	termAt := time.Now()

	// New work is refused while the in-flight charges still drain: polled,
	// not timed to a fixed instant, since a busy machine may take a moment
	// to deliver the signal — but well inside the 6 s drain.
	waitUntil(t, drain-time.Second, func() bool {
		resp, err := http.Get(bases[1] + "/healthz")
		if err != nil {
			return true
		}
		resp.Body.Close()
		return false
	})
	t.Logf("refusing connections %s after SIGTERM", time.Since(termAt))
	select {
	case <-leaving.done:
	case <-time.After(drain + 10*time.Second):
		t.Fatalf("the replica has not exited %s after SIGTERM (drain %s)", time.Since(termAt), drain)
	}
	t.Logf("exited %.1f s after SIGTERM", time.Since(termAt).Seconds())
	wg.Wait()

	for i, a := range answers[:n] {
		if a.err != nil || a.status != http.StatusCreated || a.state != "paid" {
			t.Errorf("in-flight charge %d: %d %q %v, want 201 paid (it was in flight before SIGTERM)", i, a.status, a.state, a.err)
		}
	}
	// The cut-off charge: the retry on the remaining replica is answered
	// from the PG, and the PG charged the order once.
	body := fmt.Sprintf(`{"billing_key_id":%q,"amount":1005,"order_name":"burst"}`, billingKey)
	var final answer
	waitUntil(t, retriedChargeBound, func() bool {
		got, status, err := postJSON(bases[0], "/v1/payments", secret, body, "burst-"+strconv.Itoa(n))
		if err != nil || status == http.StatusConflict || status >= 500 {
			time.Sleep(300 * time.Millisecond)
			return false
		}
		state, _ := got["status"].(string)
		final = answer{status, state, nil}
		if id, _ := got["id"].(string); paidAttempts(pg, id) != 1 {
			t.Errorf("the cut-off charge %s: the PG holds %d paid attempts, want 1", id, paidAttempts(pg, id))
		}
		return true
	})
	if final.status != http.StatusCreated || final.state != "paid" {
		t.Errorf("the cut-off charge retried elsewhere: %d %q, want 201 paid", final.status, final.state)
	}

	// It left nothing marked running under its name, and the others know
	// it is gone.
	var running int
	var stale bool
	err = db.QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM river_job WHERE state = 'running' AND attempted_by[cardinality(attempted_by)] = $1),
		(SELECT heartbeat_at < now() - interval '1 minute' FROM replicas WHERE client_id = $1)`, leavingID).Scan(&running, &stale)
	if err != nil {
		t.Fatal(err)
	}
	if running != 0 || !stale {
		t.Errorf("after a graceful stop: %d jobs still running under %s, marked gone %v", running, leavingID, stale)
	}
}
