package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/billingd/billingd/internal/payments"
)

// pgSchedule is a subscription reply's pg_schedule.status.
func pgSchedule(r response) string {
	s, _ := r.body["pg_schedule"].(map[string]any)
	st, _ := s["status"].(string)
	return st
}

// revokeJob returns the live revoke_schedule job of a payment, if any.
func (b *payBundle) revokeJob(t *testing.T, paymentID string) (int64, bool) {
	t.Helper()
	res, err := b.queue.JobList(t.Context(), river.NewJobListParams().Kinds(payments.RevokeScheduleArgs{}.Kind()).First(100))
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range res.Jobs {
		var args payments.RevokeScheduleArgs
		if json.Unmarshal(j.EncodedArgs, &args) == nil && args.PaymentID == paymentID && j.FinalizedAt == nil {
			return j.ID, true
		}
	}
	return 0, false
}

// waitPGSchedule polls a subscription until its pg_schedule has status want.
func (b *payBundle) waitPGSchedule(t *testing.T, id, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for pgSchedule(b.subscription(t, id)) != want {
		if time.Now().After(deadline) {
			t.Fatalf("pg_schedule of %s is %s, want %s", id, b.subscription(t, id).raw, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitPayment polls a payment until it has status want.
func (b *payBundle) waitPayment(t *testing.T, id, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for b.paymentStatus(t, id) != want {
		if time.Now().After(deadline) {
			t.Fatalf("payment %s is %s, want %s", id, b.paymentStatus(t, id), want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestCancelNeverLeavesALiveSchedule(t *testing.T) {
	t.Parallel()

	t.Run("UnscheduleFailureIsRetriedUntilThePGConfirms", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		b.activeKey(t, "payco")
		r := b.subscribe(t, "s", map[string]any{"amount": 1000, "order_name": "x", "interval": "month"})
		id := r.str("id")
		waitScheduled(t, b, id, 1)
		ps := b.periodPayments(t, id)
		next := ps[len(ps)-1]["id"].(string)
		b.waitPGSchedule(t, id, "scheduled")
		// Iamport answers 500 to every unschedule for a while.
		b.sandbox.Iamport.FailUnschedule(1000)
		c := b.do(t, request{method: "POST", path: "/v1/subscriptions/" + id + "/cancel", auth: b.m.secret, body: map[string]any{}})
		requireStatus(t, c, http.StatusOK)
		if c.str("status") != "canceled" || pgSchedule(c) != "revoking" {
			t.Fatalf("cancel while the PG fails: %s", c.raw)
		}
		jobID, ok := b.revokeJob(t, next)
		if !ok {
			t.Fatal("no revoke job queued for the waiting payment")
		}
		// The PG recovers; the job (run now rather than in 10 s) revokes it.
		b.sandbox.Iamport.FailUnschedule(0)
		if _, err := b.queue.JobRetry(t.Context(), jobID); err != nil {
			t.Fatal(err)
		}
		b.waitPayment(t, next, "canceled")
		anchor, _ := time.Parse(time.RFC3339, r.str("anchor"))
		b.advanceTo(t, anchor.In(seoul).AddDate(0, 1, 1))
		if n := len(b.sandbox.Iamport.PaymentsByOrder(next)); n != 0 {
			t.Fatalf("the PG charged a canceled subscription %d times", n)
		}
		if got := pgSchedule(b.subscription(t, id)); got != "none" {
			t.Fatalf("pg_schedule %q after the revocation", got)
		}
	})

	t.Run("ARunTheRevocationLostToIsRecordedAndRefunded", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		b.activeKey(t, "payco")
		r := b.subscribe(t, "s", map[string]any{"amount": 1000, "order_name": "x", "interval": "month"})
		id := r.str("id")
		waitScheduled(t, b, id, 1)
		b.waitPGSchedule(t, id, "scheduled")
		ps := b.periodPayments(t, id)
		next := ps[len(ps)-1]["id"].(string)
		b.sandbox.Iamport.FailUnschedule(1000) // unschedule never gets through in time
		c := b.do(t, request{method: "POST", path: "/v1/subscriptions/" + id + "/pause", auth: b.m.secret})
		requireStatus(t, c, http.StatusOK)
		if c.str("status") != "paused" || pgSchedule(c) != "revoking" {
			t.Fatalf("pause while the PG fails: %s", c.raw)
		}
		// Resuming now would bill beside the payment still being revoked.
		res := b.do(t, request{method: "POST", path: "/v1/subscriptions/" + id + "/resume", auth: b.m.secret})
		requireStatus(t, res, http.StatusConflict)
		if res.errorField("code") != "schedule_pending_confirmation" {
			t.Fatalf("resume while revoking: %s", res.raw)
		}
		// The PG runs the schedule it still holds, and says so.
		anchor, _ := time.Parse(time.RFC3339, r.str("anchor"))
		b.advanceTo(t, anchor.In(seoul).AddDate(0, 1, 0).Add(time.Minute))
		if got := b.paymentStatus(t, next); got != "paid" {
			t.Fatalf("the PG ran it; payment is %s", got)
		}
		jobID, ok := b.revokeJob(t, next)
		if !ok {
			t.Fatal("no revoke job for the payment")
		}
		if _, err := b.queue.JobRetry(t.Context(), jobID); err != nil {
			t.Fatal(err)
		}
		b.waitPayment(t, next, "refunded")
		events := b.eventTypes(t, next)
		if len(events) < 3 || events[len(events)-1] != "payment.refunded" || !slices.Contains(events, "payment.paid") {
			t.Fatalf("events %v", events)
		}
		if got := b.subscription(t, id); got.str("status") != "paused" || pgSchedule(got) != "none" {
			t.Fatalf("subscription %s", got.raw)
		}
	})

	t.Run("CancelWhileTheNextPeriodIsBeingRegistered", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		key := b.activeKey(t, "payco")
		arrived, release := b.sandbox.Iamport.HoldNextSchedule()
		start := time.Now().Add(48 * time.Hour).Truncate(time.Second)
		created := make(chan response, 1)
		go func() {
			created <- b.do(t, request{method: "POST", path: "/v1/subscriptions", auth: b.m.secret,
				header: map[string]string{"Idempotency-Key": "s"},
				body: map[string]any{"customer_id": b.customer, "billing_key_id": key, "amount": 2000, "order_name": "x",
					"interval": "month", "start": start.Format(time.RFC3339)}})
		}()
		select {
		case <-arrived:
		case <-time.After(10 * time.Second):
			t.Fatal("the registration never reached the PG")
		}
		// The scheduled row is committed and the PG call is in flight.
		list := b.do(t, request{method: "GET", path: "/v1/subscriptions?limit=1", auth: b.m.secret})
		id := list.body["data"].([]any)[0].(map[string]any)["id"].(string)
		c := b.do(t, request{method: "POST", path: "/v1/subscriptions/" + id + "/cancel", auth: b.m.secret, body: map[string]any{}})
		requireStatus(t, c, http.StatusOK)
		release()
		requireStatus(t, <-created, http.StatusCreated)

		b.advanceTo(t, start.Add(time.Hour))
		ps := b.periodPayments(t, id)
		if len(ps) != 1 {
			t.Fatalf("payments %v", ps)
		}
		p := ps[0]
		charged := len(b.sandbox.Iamport.PaymentsByOrder(p["id"].(string)))
		switch {
		case p["status"] == "canceled" && charged == 0:
			// revoked at the PG before it ran
		case p["status"] == "refunded" && charged == 1:
			// ran, recorded, refunded
		default:
			t.Fatalf("a canceled subscription's payment is %v with %d charges at the PG", p["status"], charged)
		}
		if got := pgSchedule(b.subscription(t, id)); got != "none" {
			t.Fatalf("pg_schedule %q", got)
		}
	})
}

func TestLostReserveReply(t *testing.T) {
	t.Parallel()
	b := setupBootpay(t, "v2")
	key := b.key(t)
	b.sandbox.Bootpay.LoseReserveReplies(1)
	start := time.Now().Add(72 * time.Hour).Truncate(time.Second)
	r := b.subscribe(t, "s", map[string]any{"amount": 9000, "order_name": "x", "interval": "month",
		"billing_key_id": key, "start": start.Format(time.RFC3339)})
	id := r.str("id")
	if got := pgSchedule(r); got != "unconfirmed" {
		t.Fatalf("pg_schedule %q after a lost reserve reply: %s", got, r.raw)
	}
	// Bootpay revokes by reserve_id only, and billingd never saw it: a
	// retryable refusal, with the subscription left as it was.
	for _, action := range []string{"cancel", "pause"} {
		c := b.do(t, request{method: "POST", path: "/v1/subscriptions/" + id + "/" + action, auth: b.m.secret, body: map[string]any{}})
		requireStatus(t, c, http.StatusConflict)
		if c.errorField("code") != "schedule_pending_confirmation" {
			t.Fatalf("%s: %s", action, c.raw)
		}
	}
	if sub := b.subscription(t, id); sub.str("status") != "active" {
		t.Fatalf("a refused cancel changed the subscription: %s", sub.raw)
	}
	// Bootpay runs the reservation; its webhook names the order, and the
	// payment is recorded.
	b.advanceTo(t, start.Add(time.Minute))
	ps := b.periodPayments(t, id)
	if ps[0]["status"] != "paid" {
		t.Fatalf("the reservation ran; payment %v", ps[0])
	}
	if n := b.sandbox.Bootpay.PaidCount(b.appID, ps[0]["id"].(string)); n != 1 {
		t.Fatalf("%d paid at the PG", n)
	}
	waitScheduled(t, b.payBundle, id, 1)
	b.waitPGSchedule(t, id, "scheduled")
	c := b.do(t, request{method: "POST", path: "/v1/subscriptions/" + id + "/cancel", auth: b.m.secret, body: map[string]any{}})
	requireStatus(t, c, http.StatusOK)
	if c.str("status") != "canceled" || pgSchedule(c) != "none" {
		t.Fatalf("cancel once the PG's ids are known: %s", c.raw)
	}
}

// TestLegacyBootpayV1RefusesSchedules: v1 cannot look a reservation up, so
// billingd starts none there rather than one it could not guarantee to
// revoke or record.
func TestLegacyBootpayV1RefusesSchedules(t *testing.T) {
	t.Parallel()
	b := setupBootpay(t, "v1")
	key := b.key(t)
	at := time.Now().Add(48 * time.Hour).Format(time.RFC3339)
	r := b.charge(t, "later", map[string]any{"billing_key_id": key, "amount": 9000, "order_name": "later", "scheduled_at": at})
	requireStatus(t, r, http.StatusBadRequest)
	if r.errorField("code") != "provider_capability" || r.errorField("param") != "scheduled_at" {
		t.Fatalf("scheduled charge on v1: %s", r.raw)
	}
	s := b.do(t, request{method: "POST", path: "/v1/subscriptions", auth: b.m.secret, header: map[string]string{"Idempotency-Key": "s"},
		body: map[string]any{"customer_id": b.customer, "billing_key_id": key, "amount": 9000, "order_name": "x", "interval": "month"}})
	requireStatus(t, s, http.StatusBadRequest)
	if s.errorField("code") != "provider_capability" {
		t.Fatalf("subscription on v1: %s", s.raw)
	}
	// Charges still work on v1.
	requireStatus(t, b.charge(t, "now", map[string]any{"billing_key_id": key, "amount": 9000, "order_name": "now"}), http.StatusCreated)
}
