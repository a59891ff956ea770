package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
)

// BenchmarkRenewalWave creates N monthly subscriptions whose first periods
// are all due at the same instant, advances the test clock past it, and
// reports how long billingd takes until every one is paid and its next
// period registered at the PG, with the PG calls that took. The advance
// answers only once all of it is settled (internal/testclock), so its
// duration is the wave's.
//
//	BILLINGD_BENCH_N=10000 go test -run '^$' -bench RenewalWave -benchtime 1x -timeout 30m ./internal/api/
func BenchmarkRenewalWave(b *testing.B) {
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("BILLINGD_BENCH_N")); err == nil && v > 0 {
		n = v
	}
	for range b.N {
		b.StopTimer()
		bundle := setupPayments(b)
		bundle.client = http.DefaultClient // contract checks would dominate the numbers
		key := bundle.activeKey(b, "payco")
		due := time.Now().Add(30 * 24 * time.Hour).Truncate(time.Second)
		created := time.Now()
		bundle.createSubscriptions(b, key, due, n)
		createdIn := time.Since(created)
		calls := func() map[string]int {
			return map[string]int{
				"schedule": bundle.pgCalls("POST /subscribe/payments/schedule"),
				"get":      bundle.pgCalls("GET /payments/{imp_uid}"),
				"lookup":   bundle.pgCalls("GET /subscribe/payments/schedule/{merchant_uid}"),
				"token":    bundle.pgCalls("POST /users/getToken"),
			}
		}
		before := calls()

		b.StartTimer()
		start := time.Now()
		body, _ := json.Marshal(map[string]any{"to": due.Add(time.Minute).Format(time.RFC3339)})
		req, _ := http.NewRequest("POST", bundle.url+"/v1/test_clock/advance", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+bundle.m.secret)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("advance: HTTP %d %s\n%s", resp.StatusCode, answer, lastLines(bundle.logs.String(), 20))
		}
		settled := time.Since(start)
		b.StopTimer()

		var paid, scheduled, dup, notified int
		err = bundle.store.Pool().QueryRow(b.Context(), `SELECT count(*) FILTER (WHERE status = 'paid' AND period = 0),
			count(*) FILTER (WHERE status = 'scheduled' AND period = 1),
			(SELECT count(*) FROM (SELECT 1 FROM payments WHERE status NOT IN ('failed', 'canceled')
				GROUP BY subscription_id, period HAVING count(*) > 1) d),
			(SELECT count(*) FROM pg_notifications) FROM payments`).Scan(&paid, &scheduled, &dup, &notified)
		if err != nil || paid != n || scheduled != n || dup != 0 {
			b.Fatalf("after the wave: %d paid, %d next periods scheduled, want %d each; %d periods held twice (%v)", paid, scheduled, n, dup, err)
		}
		after := calls()
		b.ReportMetric(float64(n), "subscriptions")
		b.ReportMetric(settled.Seconds(), "settle-s")
		b.ReportMetric(float64(n)/settled.Seconds(), "renewals/s")
		b.ReportMetric(createdIn.Seconds(), "create-s")
		b.ReportMetric(float64(after["schedule"]-before["schedule"]), "pg-schedule-calls")
		b.ReportMetric(float64(after["get"]-before["get"]), "pg-lookup-calls")
		b.ReportMetric(float64(after["lookup"]-before["lookup"]), "pg-schedule-lookups")
		// The PG's webhooks a replica took (it receives a few at a time
		// and refuses the rest of a wave); the others are asked about.
		b.ReportMetric(float64(notified), "notifications-stored")
		b.ReportMetric(float64(after["token"]-before["token"]), "pg-token-calls")
	}
}

// createSubscriptions creates n subscriptions starting at due, 16 at a time.
func (bb *payBundle) createSubscriptions(b testing.TB, key string, due time.Time, n int) {
	var wg sync.WaitGroup
	work := make(chan int)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				body, _ := json.Marshal(map[string]any{"customer_id": bb.customer, "billing_key_id": key, "amount": 9900,
					"order_name": "bench", "interval": "month", "start": due.Format(time.RFC3339)})
				req, _ := http.NewRequest("POST", bb.url+"/v1/subscriptions", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+bb.m.secret)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Idempotency-Key", fmt.Sprintf("bench-%d", i))
				resp, err := http.DefaultClient.Do(req)
				if err != nil || resp.StatusCode != http.StatusCreated {
					b.Errorf("subscription %d: %v %v", i, resp, err)
					continue
				}
				resp.Body.Close()
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
}
