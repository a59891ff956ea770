package api

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// A charge claims its Idempotency-Key in the statement that creates its
// payment (idempotentCharge); these cover what that must not change.
func TestChargeIdempotency(t *testing.T) {
	t.Parallel()

	t.Run("ReplayIsByteForByte", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		key := b.activeKey(t, "payco")
		body := map[string]any{"billing_key_id": key, "amount": 9900, "order_name": "plan"}
		first := b.charge(t, "replay-1", body)
		requireStatus(t, first, http.StatusCreated)
		again := b.charge(t, "replay-1", body)
		requireStatus(t, again, http.StatusCreated)
		if again.header.Get("Idempotent-Replayed") != "true" || string(again.raw) != string(first.raw) {
			t.Fatalf("replay %s (replayed=%q), want %s", again.raw, again.header.Get("Idempotent-Replayed"), first.raw)
		}
		if n := b.pgCalls("POST /subscribe/payments/again"); n != 1 {
			t.Fatalf("%d PG charges, want 1", n)
		}
	})

	t.Run("DeclineIsStored", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		key := b.activeKey(t, "payco")
		body := map[string]any{"billing_key_id": key, "amount": 1004, "order_name": "plan"}
		first := b.charge(t, "decline-1", body)
		requireStatus(t, first, http.StatusPaymentRequired)
		again := b.charge(t, "decline-1", body)
		requireStatus(t, again, http.StatusPaymentRequired)
		if again.header.Get("Idempotent-Replayed") != "true" || string(again.raw) != string(first.raw) {
			t.Fatalf("replay %s, want %s", again.raw, first.raw)
		}
		if n := b.pgCalls("POST /subscribe/payments/again"); n != 1 {
			t.Fatalf("%d PG charges, want 1", n)
		}
	})

	t.Run("AnswerCommitsWithTheOutcome", func(t *testing.T) {
		t.Parallel()
		// The stored answer is written by the transaction that records the
		// PG's answer (payments.Reply), paid or declined: same xmin.
		b := setupPayments(t)
		key := b.activeKey(t, "payco")
		for _, c := range []struct {
			idemKey string
			amount  int
			status  int
		}{{"same-tx-paid", 1000, http.StatusCreated}, {"same-tx-declined", 1004, http.StatusPaymentRequired}} {
			r := b.charge(t, c.idemKey, map[string]any{"billing_key_id": key, "amount": c.amount, "order_name": "a"})
			requireStatus(t, r, c.status)
			var (
				stored []byte
				status int
				sameTx bool
			)
			err := b.store.Pool().QueryRow(t.Context(), `
				SELECT k.response_body, k.response_status, p.xmin = k.xmin
				FROM idempotency_keys k, payments p
				WHERE k.key = $1 AND p.amount = $2`, // one payment of each amount
				c.idemKey, c.amount).Scan(&stored, &status, &sameTx)
			if err != nil {
				t.Fatalf("%s: %v", c.idemKey, err)
			}
			if string(stored) != string(r.raw) || status != c.status {
				t.Fatalf("%s: stored %d %s, sent %d %s", c.idemKey, status, stored, c.status, r.raw)
			}
			if !sameTx {
				t.Fatalf("%s: the answer and the payment's outcome committed in different transactions", c.idemKey)
			}
		}
	})

	t.Run("DifferentBodyIs422", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		key := b.activeKey(t, "payco")
		requireStatus(t, b.charge(t, "diff-1", map[string]any{"billing_key_id": key, "amount": 1000, "order_name": "a"}), http.StatusCreated)
		r := b.charge(t, "diff-1", map[string]any{"billing_key_id": key, "amount": 2000, "order_name": "a"})
		requireStatus(t, r, http.StatusUnprocessableEntity)
		if n := b.pgCalls("POST /subscribe/payments/again"); n != 1 {
			t.Fatalf("%d PG charges, want 1", n)
		}
	})

	t.Run("RefusedBeforeItStartsStoresNothing", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		key := b.activeKey(t, "payco")
		requireStatus(t, b.charge(t, "fix-1", map[string]any{"billing_key_id": "bk_nope", "amount": 1000, "order_name": "a"}), http.StatusBadRequest)
		var keys int
		if err := b.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM idempotency_keys WHERE key = 'fix-1'`).Scan(&keys); err != nil || keys != 0 {
			t.Fatalf("%d idempotency records after a refused charge (%v), want 0", keys, err)
		}
		// The corrected request may use the key.
		requireStatus(t, b.charge(t, "fix-1", map[string]any{"billing_key_id": key, "amount": 1000, "order_name": "a"}), http.StatusCreated)
	})

	t.Run("ReleasedKeyResumesItsPayment", func(t *testing.T) {
		t.Parallel()
		// A first run created its payment, then failed with a 5xx (the
		// key was released at its recovery point): the retry must take the
		// ordinary claim, find the recovery point and resume that payment,
		// never charge again.
		b := setupPayments(t)
		key := b.activeKey(t, "payco")
		body := map[string]any{"billing_key_id": key, "amount": 1000, "order_name": "a"}
		first := b.charge(t, "resume-1", body)
		requireStatus(t, first, http.StatusCreated)
		_, err := b.store.Pool().Exec(t.Context(), `UPDATE idempotency_keys SET response_status = NULL, response_body = NULL,
			locked_at = NULL, recovery_point = 'payment:' || $2 WHERE key = $1`,
			"resume-1", first.str("id"))
		if err != nil {
			t.Fatal(err)
		}
		again := b.charge(t, "resume-1", body)
		requireStatus(t, again, http.StatusCreated)
		if again.str("id") != first.str("id") || again.header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("retry answered %s (replayed=%q), want payment %s resumed", again.raw, again.header.Get("Idempotent-Replayed"), first.str("id"))
		}
		if n := b.pgCalls("POST /subscribe/payments/again"); n != 1 {
			t.Fatalf("%d PG charges, want 1", n)
		}
		// And now the key holds the resumed run's answer.
		third := b.charge(t, "resume-1", body)
		if third.header.Get("Idempotent-Replayed") != "true" || third.str("id") != first.str("id") {
			t.Fatalf("third try %s", third.raw)
		}
	})
}

// TestChargeRoundTrips guards the charge path's database round trips
// (docs/benchmarks.md): with the API key cached, a paid charge costs one
// read (key, customer and account together), phase 1 (claim + payment, one
// statement), phase 2 (BEGIN with the settle, the event with its endpoint
// lookup and the stored answer in one batch, COMMIT): 5. More means a query
// crept in.
func TestChargeRoundTrips(t *testing.T) {
	t.Parallel()
	b := setupPaymentsWith(t, bundleOpts{noJobs: true, apiKeyCacheTTL: time.Minute})
	key := b.activeKey(t, "payco")
	body := map[string]any{"billing_key_id": key, "amount": 1000, "order_name": "a"}
	// The PG's notifications are their own requests (and round trips).
	b.sandbox.Iamport.SetWebhooksEnabled(false)
	// Warm up: the key cached, each statement prepared on the connections.
	for i := range 5 {
		requireStatus(t, b.charge(t, fmt.Sprintf("warm-%d", i), body), http.StatusCreated)
	}
	const n = 20
	before := b.store.RoundTrips()
	for i := range n {
		requireStatus(t, b.charge(t, fmt.Sprintf("rt-%d", i), body), http.StatusCreated)
	}
	per := float64(b.store.RoundTrips()-before) / n
	t.Logf("%.2f database round trips per charge", per)
	if per > 5 {
		t.Fatalf("%.2f database round trips per charge, want at most 5", per)
	}
}
