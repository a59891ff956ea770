package api

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestDunningBlamesOnlyTheCustomer(t *testing.T) {
	t.Parallel()

	t.Run("DeletedKeyMakesItUnpaidInsteadOfRetryingHourly", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		key := b.activeKey(t, "payco")
		// An amount ending in 4 is declined: the first charge fails, dunning starts.
		r := b.subscribe(t, "s", map[string]any{"amount": 7004, "order_name": "x", "interval": "week", "billing_key_id": key})
		id := r.str("id")
		if r.str("status") != "past_due" {
			t.Fatalf("a declined first charge: %s", r.raw)
		}
		requireStatus(t, b.do(t, request{method: "DELETE", path: "/v1/billing_keys/" + key, auth: b.m.secret}), http.StatusOK)
		anchor, _ := time.Parse(time.RFC3339, r.str("anchor"))
		b.advanceTo(t, anchor.Add(25*time.Hour))
		sub := b.subscription(t, id)
		if sub.str("status") != "unpaid" || sub.str("status_reason") != "billing_key_inactive" || sub.body["next_retry_at"] != nil {
			t.Fatalf("a subscription whose key was deleted: %s", sub.raw)
		}
		attempts := len(b.periodPayments(t, id))
		b.advanceTo(t, anchor.Add(6*24*time.Hour))
		if n := len(b.periodPayments(t, id)); n != attempts {
			t.Fatalf("%d attempts after it became unpaid, %d before", n, attempts)
		}
		// A new key (and a price the sandbox approves) bills the period at once.
		fresh := b.activeKey(t, "kakaopay")
		patched := b.do(t, request{method: "PATCH", path: "/v1/subscriptions/" + id, auth: b.m.secret,
			body: map[string]any{"billing_key_id": fresh, "amount": 7000}})
		requireStatus(t, patched, http.StatusOK)
		if patched.str("status") != "past_due" || patched.body["status_reason"] != nil {
			t.Fatalf("after a new key: %s", patched.raw)
		}
		b.advanceTo(t, anchor.Add(6*24*time.Hour+time.Minute))
		if sub := b.subscription(t, id); sub.str("status") != "active" {
			t.Fatalf("after the retry with the new key: %s", sub.raw)
		}
	})

	t.Run("PGAuthFailureDoesNotCountAgainstTheCustomer", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		b.activeKey(t, "payco")
		r := b.subscribe(t, "s", map[string]any{"amount": 7004, "order_name": "x", "interval": "week"})
		id := r.str("id")
		if r.str("status") != "past_due" || r.body["retry_count"] != float64(1) {
			t.Fatalf("a declined first charge: %s", r.raw)
		}
		// The merchant rotates the secret in Iamport's console and not in
		// billingd: the PG now refuses billingd's credentials.
		b.sandbox.Iamport.AddAccount(b.impKey, "rotated-at-the-pg")
		anchor, _ := time.Parse(time.RFC3339, r.str("anchor"))
		b.advanceTo(t, anchor.Add(25*time.Hour))
		sub := b.subscription(t, id)
		if sub.str("status") != "past_due" || sub.body["retry_count"] != float64(1) || sub.body["next_retry_at"] == nil {
			t.Fatalf("an auth failure was counted against the customer: %s", sub.raw)
		}
		ps := b.periodPayments(t, id)
		if last := ps[len(ps)-1]; last["failure_code"] != "pg_auth_failed" {
			t.Fatalf("the retry's failure %v", last)
		}
		resp, err := http.Get(b.url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), `billingd_operator_failures_total{code="pg_auth_failed",provider="iamport"} 1`) {
			t.Fatal("the operator failure is not in /metrics")
		}
	})
}
