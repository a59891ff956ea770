package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// An answer that tells the caller to retry (409 outcome_unknown here) is
// not stored under its Idempotency-Key: the retry with the same key is
// processed again once the conflict clears, and gets the new answer.
func TestRetryableAnswerIsNotReplayed(t *testing.T) {
	t.Parallel()
	b := setupPaymentsWith(t, bundleOpts{noJobs: true})
	key := b.activeKey(t, "payco")
	// 7: the gateway fails before the PG; the payment stays unknown and
	// the PG does not know it yet.
	p := b.charge(t, "p", map[string]any{"billing_key_id": key, "amount": 2007, "order_name": "x"})
	requireStatus(t, p, http.StatusAccepted)
	refund := func() response {
		return b.do(t, request{method: "POST", path: "/v1/payments/" + p.str("id") + "/cancel", auth: b.m.secret,
			body: map[string]any{"reason": "changed my mind"}, header: map[string]string{"Idempotency-Key": "r"}})
	}

	first := refund()
	requireStatus(t, first, http.StatusConflict)
	var locked, answered bool
	if err := b.store.Pool().QueryRow(t.Context(), `SELECT locked_at IS NOT NULL, response_status IS NOT NULL
		FROM idempotency_keys WHERE key = 'r'`).Scan(&locked, &answered); err != nil {
		t.Fatal(err)
	}
	if locked || answered {
		t.Fatalf("after a retryable answer the key is locked=%v answered=%v, want released", locked, answered)
	}
	if first.errorField("code") != "outcome_unknown" || first.header.Get("Retry-After") == "" {
		t.Fatalf("first refund %s (Retry-After %q), want outcome_unknown with Retry-After", first.raw, first.header.Get("Retry-After"))
	}

	// The conflict clears: the PG's grace for an order it never heard of
	// runs out, so reconciling fails the payment.
	if _, err := b.store.Pool().Exec(t.Context(), `UPDATE payments SET created_at = now() - interval '1 day' WHERE id = $1`, p.str("id")); err != nil {
		t.Fatal(err)
	}
	second := refund()
	requireStatus(t, second, http.StatusConflict)
	if second.header.Get("Idempotent-Replayed") != "" || second.errorField("code") != "payment_not_refundable" {
		t.Fatalf("retry %s (replayed %q), want a fresh payment_not_refundable", second.raw, second.header.Get("Idempotent-Replayed"))
	}
	// A final answer is stored as before.
	third := refund()
	if third.header.Get("Idempotent-Replayed") != "true" || string(third.raw) != string(second.raw) {
		t.Fatalf("final answer not replayed: %s", third.raw)
	}
}

// A request that runs longer than the lease keeps its key: it renews the
// lease while it runs, so a retry meanwhile is 409 and never a second run.
func TestLeaseIsRenewedWhileTheRequestRuns(t *testing.T) {
	t.Parallel()
	b := setupPaymentsWith(t, bundleOpts{noJobs: true})
	key := b.activeKey(t, "payco")
	body := map[string]any{"billing_key_id": key, "amount": 3005, "order_name": "slow"} // 5: the PG holds its reply
	first := make(chan response, 1)
	go func() { first <- b.charge(t, "slow", body) }()

	time.Sleep(idempotencyLease + idempotencyRenewEvery)
	during := b.charge(t, "slow", body)
	requireStatus(t, during, http.StatusConflict)
	if during.errorField("code") != "idempotency_key_in_use" {
		t.Fatalf("retry while the first runs: %s", during.raw)
	}
	got := <-first
	requireStatus(t, got, http.StatusAccepted) // the PG's reply never came: unknown
	if n := b.pgCalls("POST /subscribe/payments/again"); n != 1 {
		t.Fatalf("%d PG charges, want 1", n)
	}
}

// A key stored by a release whose fingerprints were a plain SHA-256 still
// replays its answer to the same request after the upgrade (a 422 would
// send the client to a new key and a second charge), and keeps the keyed
// fingerprint from then on.
func TestKeyStoredBeforeKeyedFingerprintsStillReplays(t *testing.T) {
	t.Parallel()
	b := setupPayments(t)
	key := b.activeKey(t, "payco")
	body := map[string]any{"billing_key_id": key, "amount": 1000, "order_name": "upgrade"}
	first := b.charge(t, "old-1", body)
	requireStatus(t, first, http.StatusCreated)
	sent, _ := json.Marshal(body)
	plain := sha256.Sum256(canonicalRequest("POST", "/v1/payments", sent))
	if _, err := b.store.Pool().Exec(t.Context(), `UPDATE idempotency_keys SET fingerprint = $2 WHERE key = $1`, "old-1", plain[:]); err != nil {
		t.Fatal(err)
	}

	requireStatus(t, b.charge(t, "old-1", map[string]any{"billing_key_id": key, "amount": 2000, "order_name": "upgrade"}),
		http.StatusUnprocessableEntity)
	again := b.charge(t, "old-1", body)
	if again.header.Get("Idempotent-Replayed") != "true" || string(again.raw) != string(first.raw) {
		t.Fatalf("retry under a key stored before the upgrade: %d %s", again.status, again.raw)
	}
	var stored []byte
	if err := b.store.Pool().QueryRow(t.Context(), `SELECT fingerprint FROM idempotency_keys WHERE key = 'old-1'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(stored, plain[:]) {
		t.Fatal("the plain fingerprint is still stored after the retry")
	}
	if n := b.pgCalls("POST /subscribe/payments/again"); n != 1 {
		t.Fatalf("%d PG charges, want 1", n)
	}
}
