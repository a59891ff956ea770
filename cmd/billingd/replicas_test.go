package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"

	"github.com/billingd/billingd/internal/jobs"
	"github.com/billingd/billingd/internal/providers/iamport/sandbox"
	"github.com/billingd/billingd/internal/store/storetest"
)

// retriedChargeBound is how soon after its replica died a charge retried
// with the same Idempotency-Key gets its final answer: the dead run's
// idempotency lease (15 s, internal/api/idempotency.go — the money-safety
// lease) lapses, then the retry asks the PG about the order the dead run
// created. The margin covers the PG lookup and the client's own pauses.
const retriedChargeBound = 15*time.Second + 30*time.Second

// deadReplicaJobsBound is how soon the jobs a killed replica was running
// are handed back to the queue: its heartbeat goes stale, and the next
// rescue on a live replica takes them (jobs.DeadAfter +
// jobs.RescueInterval), with a margin for a loaded machine. Before, River
// left them running for an hour.
const deadReplicaJobsBound = jobs.DeadAfter + jobs.RescueInterval + 30*time.Second

// settleBound bounds the whole burst's settling after the kill; it
// depends on the machine's speed, not on a timeout of billingd.
const settleBound = 6 * time.Minute

// Three `billingd serve` processes on one database, PG webhooks through a
// round-robin balancer, charges spread over the replicas while every
// subscription's period falls due at the same instant at the PG, and one
// replica SIGKILLed in the middle and restarted. Nothing is charged twice,
// every charge is answered, every period is paid once and its next period
// registered once, periodic jobs never overlap, every merchant webhook
// arrives with a stable webhook-id, and nothing is left unknown without a
// reconcile job. The sandbox PG runs in this process: the built-in one
// keeps its state per process. Sizes: BILLINGD_REPLICA_TEST_SUBSCRIPTIONS
// (default 2000), BILLINGD_REPLICA_TEST_CHARGES (default 600).
func TestReplicasShareOneDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three billingd processes")
	}
	nSubs := envInt(t, "BILLINGD_REPLICA_TEST_SUBSCRIPTIONS", 2000)
	nCharges := envInt(t, "BILLINGD_REPLICA_TEST_CHARGES", 600)
	clearBillingdEnv(t)
	began := time.Now()

	// The PG's replies take 50 ms, so charges are in flight when the
	// replica dies. It sends each webhook once, as Iamport does, and waits
	// for it as long as the burst may take here.
	pg := sandbox.New(sandbox.Options{Latency: 50 * time.Millisecond, WebhookTimeout: time.Minute})
	pgSrv := httptest.NewServer(pg)
	t.Cleanup(pgSrv.Close)
	hooks := newHookSink(t)

	dbURL := storetest.NewDatabaseURL(t)
	bases := make([]string, 3)
	for i := range bases {
		bases[i] = "http://127.0.0.1:" + freePort(t)
	}
	lb := newBalancer(t, bases)
	adminToken := randomHex(t, 32)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	common := []string{
		crashChildEnv + "=1",
		"BILLINGD_DATABASE_URL=" + dbURL,
		// PG webhooks reach whichever replica the balancer picks.
		"BILLINGD_PUBLIC_BASE_URL=" + lb.srv.URL,
		"BILLINGD_ADMIN_TOKEN=" + adminToken,
		"BILLINGD_ENCRYPTION_KEY=" + base64.StdEncoding.EncodeToString(key),
		"BILLINGD_SANDBOX=false",
		"BILLINGD_WEBHOOK_ALLOW_PRIVATE=true",
		// One API key and one PG account carry the whole load: the
		// per-replica limiters stay in the path, far above it.
		"BILLINGD_RATE_LIMIT=100000",
		"BILLINGD_WEBHOOK_RATE_LIMIT=100000",
		"BILLINGD_DB_MAX_CONNS=15",
		"BILLINGD_LOG_LEVEL=warn",
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BILLINGD_") && !strings.HasPrefix(kv, "DATABASE_URL=") {
			common = append(common, kv)
		}
	}
	envOf := func(i int) []string {
		return append(append([]string{}, common...), "BILLINGD_LISTEN_ADDR="+strings.TrimPrefix(bases[i], "http://"))
	}
	replicas := make([]*crashChild, 3)
	for i := range replicas {
		replicas[i] = startChild(t, envOf(i), bases[i])
	}

	secret, keys, customers := setupReplicaMerchant(t, bases[0], adminToken, pg, pgSrv.URL, hooks.srv.URL, 10)
	t.Logf("set up in %.1f s", time.Since(began).Seconds())

	// Every subscription's first period is registered at the PG for the
	// same instant, an hour ahead.
	due := time.Now().Add(time.Hour).Truncate(time.Second)
	subs := make([]string, nSubs)
	g := new(errgroup.Group)
	g.SetLimit(12)
	for i := range nSubs {
		g.Go(func() error {
			body := fmt.Sprintf(`{"customer_id":%q,"billing_key_id":%q,"amount":9900,"order_name":"plan","interval":"day","start":%q}`,
				customers[i%len(keys)], keys[i%len(keys)], due.Format(time.RFC3339))
			got, status, err := postJSON(bases[i%3], "/v1/subscriptions", secret, body, "sub-"+strconv.Itoa(i))
			if err != nil || status != http.StatusCreated {
				return fmt.Errorf("subscription %d: %d %v %v", i, status, got, err)
			}
			sub, _ := got["subscription"].(map[string]any)
			if sub == nil {
				sub = got
			}
			subs[i], _ = sub["id"].(string)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d subscriptions registered in %.1f s", nSubs, time.Since(began).Seconds())

	db, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)

	// The load: charges round robin over the replicas, each retried with
	// its Idempotency-Key until it has a final answer; meanwhile the PG
	// runs every due schedule at once and posts its webhooks.
	killed := make(chan time.Time, 1)
	charges := runCharges(t, bases, secret, keys, nCharges, killed)
	pg.Advance(due.Add(time.Second))
	runDue := make(chan error, 1)
	go func() {
		_, err := pg.RunDue(context.Background())
		runDue <- err
	}()

	// SIGKILL replica 1 once a third of the renewals are in.
	waitUntil(t, 2*time.Minute, func() bool {
		var n int
		_ = db.QueryRow(context.Background(), `SELECT count(*) FROM pg_notifications`).Scan(&n)
		return n >= nSubs/3
	})
	replicas[1].kill(t)
	killedAt := time.Now()
	killed <- killedAt
	var (
		killedID string
		held     int
	)
	err = db.QueryRow(context.Background(), `SELECT client_id, (SELECT count(*) FROM river_job WHERE state = 'running'
		AND attempted_by[cardinality(attempted_by)] = client_id) FROM replicas ORDER BY started_at OFFSET 1 LIMIT 1`).Scan(&killedID, &held)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("replica 1 killed %.1f s in, holding %d running jobs", time.Since(began).Seconds(), held)
	handedBack := make(chan time.Duration, 1)
	go func() {
		for time.Since(killedAt) < settleBound {
			var n int
			err := db.QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE state = 'running'
				AND attempted_by[cardinality(attempted_by)] = $1`, killedID).Scan(&n)
			if err == nil && n == 0 {
				handedBack <- time.Since(killedAt)
				return
			}
			time.Sleep(250 * time.Millisecond)
		}
		handedBack <- -1
	}()
	time.Sleep(10 * time.Second)
	replicas[1] = startChild(t, envOf(1), bases[1])

	if err := <-runDue; err != nil {
		t.Fatalf("the PG's scheduler: %v", err)
	}
	// A webhook that reached no replica is recovered only by the sweep of
	// due schedules on billingd's own clock, an hour away here: the
	// harness, not billingd, would have lost it.
	if n := lb.lostWebhooks.Load(); n > 0 {
		t.Fatalf("%d PG webhooks reached no replica through the balancer", n)
	}
	t.Logf("PG webhooks sent again after a 429 or 5xx: %d %v", lb.resentWebhooks.Load(), lb.shed())
	results := <-charges

	// Every period 0 recorded paid and every period 1 registered.
	var settledAt time.Duration
	for deadline := killedAt.Add(settleBound); ; {
		var pending int
		_ = db.QueryRow(context.Background(), `SELECT count(*) FROM subscriptions s WHERE NOT EXISTS (
			SELECT 1 FROM payments p WHERE p.subscription_id = s.id AND p.period = 1 AND p.status = 'scheduled')`).Scan(&pending)
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d subscriptions still without a registered next period; %s", pending, replicaDiagnostics(db))
		}
		time.Sleep(500 * time.Millisecond)
	}
	settledAt = time.Since(killedAt)
	t.Logf("every renewal recorded and its next period registered %.1f s after the kill", settledAt.Seconds())

	// Whatever the killed replica held went back to the queue, well before
	// River's own rescue would have taken it.
	switch took := <-handedBack; {
	case took < 0:
		t.Errorf("jobs still marked running by the killed replica %s after %s", killedID, settleBound)
	case took > deadReplicaJobsBound:
		t.Errorf("the killed replica's jobs were handed back %.1f s after the kill, want within %s", took.Seconds(), deadReplicaJobsBound)
	default:
		t.Logf("the killed replica's jobs handed back %.1f s after the kill", took.Seconds())
	}
	checkCharges(t, pg, db, results, nCharges)
	checkPeriods(t, pg, db, nSubs)
	checkPeriodicJobs(t, db)
	checkNothingUnknown(t, db)
	hooks.check(t, db)
	t.Logf("%d subscriptions, %d charges, 3 replicas: %.1f s in all", nSubs, nCharges, time.Since(began).Seconds())
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// postJSON posts body with an Idempotency-Key and decodes the answer.
func postJSON(base, path, auth, body, idem string) (map[string]any, int, error) {
	resp, err := post(base+path, auth, body, map[string]string{"Idempotency-Key": idem})
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, resp.StatusCode, err
	}
	var got map[string]any
	_ = json.Unmarshal(raw, &got)
	return got, resp.StatusCode, nil
}

// setupReplicaMerchant creates a merchant with a secret test key, an
// Iamport account on the external sandbox, a merchant webhook endpoint on
// hookURL, and n customers with an active billing key each.
func setupReplicaMerchant(t *testing.T, base, adminToken string, pg *sandbox.Server, pgURL, hookURL string, n int) (secret string, keys, customers []string) {
	t.Helper()
	ct := map[string]string{"Content-Type": "application/json"}
	m := httpJSON(t, "POST", base+"/admin/v1/merchants", adminToken, `{"name":"replica shop"}`, ct)
	mid, _ := m["id"].(string)
	k := httpJSON(t, "POST", base+"/admin/v1/merchants/"+mid+"/keys", adminToken, `{"kind":"secret","mode":"test"}`, ct)
	secret, _ = k["key"].(string)
	impKey, impSecret := "imp_replicas_"+randomHex(t, 4), "secret_"+randomHex(t, 16)
	pg.AddAccount(impKey, impSecret)
	httpJSON(t, "POST", base+"/admin/v1/merchants/"+mid+"/provider_accounts", adminToken,
		`{"provider":"iamport","mode":"test","base_url":"`+pgURL+`","credentials":{"imp_key":"`+impKey+`","imp_secret":"`+impSecret+`"},`+
			`"settings":{"imp_code":"imp00000000","default_pg":"nice"}}`, ct)
	httpJSON(t, "POST", base+"/v1/webhook_endpoints", secret, `{"url":"`+hookURL+`","enabled_events":["*"]}`, ct)
	for i := range n {
		cus := httpJSON(t, "POST", base+"/v1/customers", secret, fmt.Sprintf(`{"name":"홍길동","email":"r%d@example.com"}`, i), ct)
		cusID, _ := cus["id"].(string)
		bk := httpJSON(t, "POST", base+"/v1/billing_keys", secret, `{"customer_id":"`+cusID+`","provider":"iamport","pg":"nice",`+
			`"card":{"number":"4111-1111-1111-1111","expiry":"2035-12","birth":"900101","pwd_2digit":"12"}}`, ct)
		if bk["status"] != "active" {
			t.Fatalf("billing key %v, want active", bk)
		}
		id, _ := bk["id"].(string)
		keys, customers = append(keys, id), append(customers, cusID)
	}
	return secret, keys, customers
}

// chargeResult is one charge's final answer.
type chargeResult struct {
	status int
	id     string
	state  string
	// diedAt is when an attempt lost its replica (zero if none did);
	// answeredAt when the final answer came.
	diedAt, answeredAt time.Time
}

// runCharges sends n charges round robin over the replicas, 12 at a time,
// and retries each with its Idempotency-Key on the next replica while the
// answer is not final (no connection, 409 key in use, 5xx). The results
// arrive on the returned channel once every charge is answered.
func runCharges(t *testing.T, bases []string, secret string, keys []string, n int, killed <-chan time.Time) <-chan []chargeResult {
	out := make(chan []chargeResult, 1)
	results := make([]chargeResult, n)
	var sent atomic.Int64
	go func() {
		var wg sync.WaitGroup
		sem := make(chan struct{}, 12)
		for i := range n {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				r := &results[i]
				body := fmt.Sprintf(`{"billing_key_id":%q,"amount":%d,"order_name":"load"}`, keys[i%len(keys)], 1000+10*i)
				deadline := time.Now().Add(3 * time.Minute)
				for try := 0; time.Now().Before(deadline); try++ {
					got, status, err := postJSON(bases[(i+try)%len(bases)], "/v1/payments", secret, body, "charge-"+strconv.Itoa(i))
					if err != nil || status == http.StatusConflict || status >= 500 {
						// Refused is a replica that is down, not one
						// that died holding the request.
						if err != nil && !errors.Is(err, syscall.ECONNREFUSED) && r.diedAt.IsZero() {
							r.diedAt = time.Now()
						}
						time.Sleep(300 * time.Millisecond)
						continue
					}
					r.status, r.answeredAt = status, time.Now()
					r.id, _ = got["id"].(string)
					r.state, _ = got["status"].(string)
					break
				}
				sent.Add(1)
			}()
			// Pace the charges over the kill.
			time.Sleep(40 * time.Millisecond)
		}
		wg.Wait()
		out <- results
	}()
	return out
}
