package api

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

var seoul = func() *time.Location { l, _ := time.LoadLocation("Asia/Seoul"); return l }()

// advanceTo moves the bundle's test clock (and its sandbox PG) to t.
func (b *payBundle) advanceTo(t *testing.T, to time.Time) response {
	t.Helper()
	r := b.do(t, request{method: "POST", path: "/v1/test_clock/advance", auth: b.m.secret,
		body: map[string]any{"to": to.Format(time.RFC3339)}})
	if r.status != http.StatusOK {
		t.Logf("logs:\n%s", lastLines(b.logs.String(), 20))
	}
	requireStatus(t, r, http.StatusOK)
	return r
}

func (b *payBundle) subscribe(t *testing.T, key string, body map[string]any) response {
	t.Helper()
	if body["customer_id"] == nil {
		body["customer_id"] = b.customer
	}
	r := b.do(t, request{method: "POST", path: "/v1/subscriptions", auth: b.m.secret, body: body,
		header: map[string]string{"Idempotency-Key": key}})
	requireStatus(t, r, http.StatusCreated)
	return r
}

func (b *payBundle) subscription(t *testing.T, id string) response {
	t.Helper()
	r := b.do(t, request{method: "GET", path: "/v1/subscriptions/" + id, auth: b.m.secret})
	requireStatus(t, r, http.StatusOK)
	return r
}

// periodPayments lists a subscription's payments by status, oldest first.
func (b *payBundle) periodPayments(t *testing.T, subID string) []map[string]any {
	t.Helper()
	var out []map[string]any
	after := ""
	for {
		path := "/v1/payments?limit=100"
		if after != "" {
			path += "&starting_after=" + after
		}
		r := b.do(t, request{method: "GET", path: path, auth: b.m.secret})
		data := r.body["data"].([]any)
		for _, d := range data {
			p := d.(map[string]any)
			if p["subscription_id"] == subID {
				out = append(out, p)
			}
		}
		if r.body["has_more"] != true {
			break
		}
		after = data[len(data)-1].(map[string]any)["id"].(string)
	}
	slices.Reverse(out)
	return out
}

func TestSubscriptions(t *testing.T) {
	t.Parallel()

	t.Run("StartNowChargesAndSchedulesTheNext", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		b.activeKey(t, "payco")
		r := b.subscribe(t, "s1", map[string]any{"amount": 9900, "order_name": "Pro plan", "interval": "month"})
		if r.str("status") != "active" || r.body["current_period"] != float64(0) || r.body["latest_payment"].(map[string]any)["status"] != "paid" {
			t.Fatalf("subscription %s", r.raw)
		}
		id := r.str("id")
		deadline := time.Now().Add(10 * time.Second)
		for {
			ps := b.periodPayments(t, id)
			if len(ps) == 2 && ps[1]["status"] == "scheduled" && ps[1]["period"] == float64(1) {
				at, _ := time.Parse(time.RFC3339, ps[1]["scheduled_at"].(string))
				anchor, _ := time.Parse(time.RFC3339, r.str("anchor"))
				if want := anchor.In(seoul).AddDate(0, 1, 0); !at.Equal(want) && at.In(seoul).Day() != want.Day() {
					t.Fatalf("period 1 scheduled at %s, want %s", at, want)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("period 1 was not registered at the PG: %v", ps)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if got := b.eventTypes(t, id); !slices.Equal(got, []string{"subscription.created"}) {
			t.Fatalf("events %v", got)
		}
		// The same request again is the same subscription.
		again := b.do(t, request{method: "POST", path: "/v1/subscriptions", auth: b.m.secret,
			body:   map[string]any{"customer_id": b.customer, "amount": 9900, "order_name": "Pro plan", "interval": "month"},
			header: map[string]string{"Idempotency-Key": "s1"}})
		if again.str("id") != id {
			t.Fatalf("replay created another subscription: %s", again.raw)
		}
	})

	t.Run("ThirteenMonthsFromJanuary31", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		b.activeKey(t, "payco")
		start := time.Date(2027, time.January, 31, 10, 0, 0, 0, seoul)
		r := b.subscribe(t, "chain", map[string]any{"amount": 12000, "order_name": "Monthly box", "interval": "month",
			"start": start.Format(time.RFC3339)})
		id := r.str("id")
		if p := r.body["latest_payment"].(map[string]any); p["status"] != "scheduled" {
			t.Fatalf("a future start should be scheduled at the PG: %v", p)
		}
		clock := b.advanceTo(t, time.Date(2028, time.February, 29, 12, 0, 0, 0, seoul))
		if clock.body["steps"].(float64) < 13 {
			t.Fatalf("the walk took %v steps", clock.body["steps"])
		}
		want := []string{"2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30", "2027-05-31", "2027-06-30", "2027-07-31",
			"2027-08-31", "2027-09-30", "2027-10-31", "2027-11-30", "2027-12-31", "2028-01-31", "2028-02-29"}
		ps := b.periodPayments(t, id)
		var paid []string
		for _, p := range ps {
			start, _ := time.Parse(time.RFC3339, p["period_start"].(string))
			if p["status"] == "paid" {
				paid = append(paid, start.In(seoul).Format("2006-01-02"))
			}
		}
		if !slices.Equal(paid, want) {
			t.Fatalf("paid periods\n %v\nwant\n %v", paid, want)
		}
		if last := ps[len(ps)-1]; last["status"] != "scheduled" || last["period"] != float64(14) {
			t.Fatalf("the next period is not waiting at the PG: %v", last)
		}
		sub := b.subscription(t, id)
		if sub.str("status") != "active" || sub.body["current_period"] != float64(13) {
			t.Fatalf("subscription %s", sub.raw)
		}
		renewed := 0
		for _, e := range b.eventTypes(t, id) {
			if e == "subscription.renewed" {
				renewed++
			}
		}
		if renewed != 13 {
			t.Fatalf("%d renewal events, want 13", renewed)
		}
		if n := b.pgCalls("POST /subscribe/payments/again"); n != 0 {
			t.Fatalf("%d immediate charges; every period should run from a PG schedule", n)
		}
	})

	t.Run("FailedRenewalRecoversWithANewCard", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		old := b.activeKey(t, "payco")
		r := b.subscribe(t, "s", map[string]any{"amount": 5000, "order_name": "x", "interval": "month", "billing_key_id": old})
		id := r.str("id")
		anchor, _ := time.Parse(time.RFC3339, r.str("anchor"))
		waitScheduled(t, b, id, 1)
		// The card is cancelled at the PG behind billingd's back: the PG's
		// scheduled run fails and says so.
		key := b.do(t, request{method: "GET", path: "/v1/billing_keys/" + old, auth: b.m.secret})
		client, _ := b.gateways.Iamport(mustAccount(t, b))
		if err := client.DeleteBillingKey(t.Context(), key.str("customer_uid")); err != nil {
			t.Fatal(err)
		}
		renewal := anchor.In(seoul).AddDate(0, 1, 0)
		b.advanceTo(t, renewal.Add(time.Hour))
		sub := b.subscription(t, id)
		if sub.str("status") != "past_due" || sub.body["next_retry_at"] == nil {
			t.Fatalf("after a failed renewal: %s", sub.raw)
		}
		// The first retry (a day later) fails too; then the customer adds a card.
		b.advanceTo(t, renewal.Add(25*time.Hour))
		if got := b.subscription(t, id); got.str("status") != "past_due" || got.body["retry_count"] != float64(2) {
			t.Fatalf("after the first retry: %s", got.raw)
		}
		fresh := b.activeKey(t, "kakaopay")
		requireStatus(t, b.do(t, request{method: "PATCH", path: "/v1/subscriptions/" + id, auth: b.m.secret,
			body: map[string]any{"billing_key_id": fresh}}), http.StatusOK)
		b.advanceTo(t, renewal.Add(4*24*time.Hour+time.Hour))
		sub = b.subscription(t, id)
		if sub.str("status") != "active" || sub.body["current_period"] != float64(1) {
			t.Fatalf("after a successful retry: %s", sub.raw)
		}
		// The calendar did not move: period 2 is due a month after period 1's start.
		ps := b.periodPayments(t, id)
		last := ps[len(ps)-1]
		at, _ := time.Parse(time.RFC3339, last["scheduled_at"].(string))
		if last["period"] != float64(2) || !at.Equal(anchor.In(seoul).AddDate(0, 2, 0)) {
			t.Fatalf("period 2 is %v at %s", last["period"], at)
		}
		paid := 0
		for _, p := range ps {
			if p["period"] == float64(1) && p["status"] == "paid" {
				paid++
			}
		}
		if paid != 1 {
			t.Fatalf("period 1 was paid %d times", paid)
		}
	})

	t.Run("RetriesExhaustedIsUnpaid", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		b.activeKey(t, "payco")
		// An amount ending in 4 is declined by the sandbox, every time.
		r := b.subscribe(t, "s", map[string]any{"amount": 7004, "order_name": "x", "interval": "week"})
		id := r.str("id")
		if r.str("status") != "past_due" {
			t.Fatalf("a declined first charge: %s", r.raw)
		}
		anchor, _ := time.Parse(time.RFC3339, r.str("anchor"))
		b.advanceTo(t, anchor.Add(10*24*time.Hour))
		sub := b.subscription(t, id)
		if sub.str("status") != "unpaid" || sub.body["next_retry_at"] != nil || sub.body["retry_count"] != float64(4) {
			t.Fatalf("after the retries: %s", sub.raw)
		}
		if n := len(b.periodPayments(t, id)); n != 4 {
			t.Fatalf("%d attempts, want the first charge and 3 retries", n)
		}
		if got := b.eventTypes(t, id); !slices.Equal(got, []string{"subscription.created", "subscription.past_due",
			"subscription.updated", "subscription.updated", "subscription.unpaid"}) {
			t.Fatalf("events %v", got)
		}
	})

	t.Run("DuplicateOrLateWebhookNeverBillsAgain", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		b.activeKey(t, "payco")
		r := b.subscribe(t, "s", map[string]any{"amount": 3000, "order_name": "x", "interval": "day"})
		id := r.str("id")
		anchor, _ := time.Parse(time.RFC3339, r.str("anchor"))
		b.advanceTo(t, anchor.Add(3*24*time.Hour+time.Hour))
		ps := b.periodPayments(t, id)
		for _, p := range ps[:3] {
			// The PG's notification for an old period, again and late.
			b.notify(t, map[string]any{"imp_uid": p["provider_payment_id"], "merchant_uid": p["id"], "status": "paid"})
			b.notify(t, map[string]any{"imp_uid": p["provider_payment_id"], "merchant_uid": p["id"], "status": "paid", "cancellation_id": "again"})
		}
		b.advanceTo(t, anchor.Add(3*24*time.Hour+2*time.Hour))
		after := b.periodPayments(t, id)
		perPeriod := map[float64]int{}
		for _, p := range after {
			if p["status"] != "failed" && p["status"] != "canceled" {
				perPeriod[p["period"].(float64)]++
			}
		}
		for period, n := range perPeriod {
			if n != 1 {
				t.Fatalf("period %v has %d live payments", period, n)
			}
		}
		if len(after) != len(ps) {
			t.Fatalf("%d payments after the late webhooks, %d before", len(after), len(ps))
		}
	})

	t.Run("AmountChangeAppliesFromTheNextPeriod", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		b.activeKey(t, "payco")
		r := b.subscribe(t, "s", map[string]any{"amount": 10000, "order_name": "x", "interval": "month"})
		id := r.str("id")
		waitScheduled(t, b, id, 1)
		patched := b.do(t, request{method: "PATCH", path: "/v1/subscriptions/" + id, auth: b.m.secret, body: map[string]any{"amount": 15000}})
		requireStatus(t, patched, http.StatusOK)
		anchor, _ := time.Parse(time.RFC3339, r.str("anchor"))
		b.advanceTo(t, anchor.In(seoul).AddDate(0, 1, 1))
		var amounts []string
		for _, p := range b.periodPayments(t, id) {
			amounts = append(amounts, fmt.Sprintf("%v:%v:%v", p["period"], p["amount"], p["status"]))
		}
		want := []string{"0:10000:paid", "1:10000:canceled", "1:15000:paid", "2:15000:scheduled"}
		if !slices.Equal(amounts, want) {
			t.Fatalf("payments %v, want %v", amounts, want)
		}
	})

	t.Run("CancelAtPeriodEnd", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		b.activeKey(t, "payco")
		r := b.subscribe(t, "s", map[string]any{"amount": 1000, "order_name": "x", "interval": "month"})
		id := r.str("id")
		waitScheduled(t, b, id, 1)
		c := b.do(t, request{method: "POST", path: "/v1/subscriptions/" + id + "/cancel", auth: b.m.secret, body: map[string]any{"at_period_end": true}})
		requireStatus(t, c, http.StatusOK)
		if c.str("status") != "active" || c.body["cancel_at_period_end"] != true {
			t.Fatalf("cancel at period end %s", c.raw)
		}
		ps := b.periodPayments(t, id)
		if last := ps[len(ps)-1]; last["status"] != "canceled" {
			t.Fatalf("the next period's payment is still %v", last["status"])
		}
		anchor, _ := time.Parse(time.RFC3339, r.str("anchor"))
		b.advanceTo(t, anchor.In(seoul).AddDate(0, 2, 0))
		if sub := b.subscription(t, id); sub.str("status") != "canceled" {
			t.Fatalf("after the period ended: %s", sub.raw)
		}
		if n := len(b.periodPayments(t, id)); n != len(ps) {
			t.Fatalf("%d payments after cancel, %d before", n, len(ps))
		}
	})

	t.Run("PauseAndResume", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		b.activeKey(t, "payco")
		r := b.subscribe(t, "s", map[string]any{"amount": 1000, "order_name": "x", "interval": "week"})
		id := r.str("id")
		waitScheduled(t, b, id, 1)
		requireStatus(t, b.do(t, request{method: "POST", path: "/v1/subscriptions/" + id + "/pause", auth: b.m.secret}), http.StatusOK)
		anchor, _ := time.Parse(time.RFC3339, r.str("anchor"))
		b.advanceTo(t, anchor.Add(3*7*24*time.Hour+time.Hour))
		if sub := b.subscription(t, id); sub.str("status") != "paused" {
			t.Fatalf("paused: %s", sub.raw)
		}
		resumed := b.do(t, request{method: "POST", path: "/v1/subscriptions/" + id + "/resume", auth: b.m.secret})
		requireStatus(t, resumed, http.StatusOK)
		ps := b.periodPayments(t, id)
		if last := ps[len(ps)-1]; last["status"] != "scheduled" || last["period"] != float64(4) {
			t.Fatalf("after resume the next payment is %v", last)
		}
	})
}

// waitScheduled waits until the subscription's period n is registered at
// the PG (the renewal job runs right after period n-1 is paid).
func waitScheduled(t *testing.T, b *payBundle, subID string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, p := range b.periodPayments(t, subID) {
			if p["period"] == float64(n) && p["status"] == "scheduled" {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("period %d was not scheduled", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
