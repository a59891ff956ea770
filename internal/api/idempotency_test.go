package api

import (
	"net/http"
	"sync"
	"testing"
)

func TestIdempotency(t *testing.T) {
	t.Parallel()

	create := func(m merchantKeys, key string, body map[string]any) request {
		return request{method: "POST", path: "/v1/customers", auth: m.secret, body: body,
			header: map[string]string{"Idempotency-Key": key}}
	}
	countCustomers := func(t *testing.T, b *testBundle, m merchantKeys) int {
		t.Helper()
		list := b.do(t, request{method: "GET", path: "/v1/customers?limit=100", auth: m.secret})
		requireStatus(t, list, http.StatusOK)
		return len(list.body["data"].([]any))
	}

	t.Run("ReplaySameRequest", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m := b.newMerchant(t)
		first := b.do(t, create(m, "k-1", map[string]any{"name": "Kim", "email": "kim@example.com"}))
		requireStatus(t, first, http.StatusCreated)
		// Same body, keys in another order and other spacing: the same request.
		again := b.do(t, request{method: "POST", path: "/v1/customers", auth: m.secret,
			body:   `{ "email": "kim@example.com",   "name": "Kim" }`,
			header: map[string]string{"Idempotency-Key": "k-1"}})
		requireStatus(t, again, http.StatusCreated)
		if again.header.Get("Idempotent-Replayed") != "true" || string(again.raw) != string(first.raw) {
			t.Fatalf("replay %s (replayed=%q), want %s", again.raw, again.header.Get("Idempotent-Replayed"), first.raw)
		}
		if first.header.Get("Idempotent-Replayed") != "" {
			t.Fatal("the first response claims to be a replay")
		}
		if n := countCustomers(t, b, m); n != 1 {
			t.Fatalf("%d customers, want 1", n)
		}
	})

	t.Run("DifferentBodyIs422", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m := b.newMerchant(t)
		requireStatus(t, b.do(t, create(m, "k-2", map[string]any{"name": "Kim"})), http.StatusCreated)
		r := b.do(t, create(m, "k-2", map[string]any{"name": "Lee"}))
		requireStatus(t, r, http.StatusUnprocessableEntity)
		if r.errorType() != "idempotency_error" {
			t.Fatalf("error %s", r.raw)
		}
	})

	t.Run("KeysAreScopedByMerchant", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		a, other := b.newMerchant(t), b.newMerchant(t)
		requireStatus(t, b.do(t, create(a, "shared", map[string]any{"name": "A"})), http.StatusCreated)
		r := b.do(t, create(other, "shared", map[string]any{"name": "B"}))
		requireStatus(t, r, http.StatusCreated)
		if r.header.Get("Idempotent-Replayed") != "" || r.str("name") != "B" {
			t.Fatalf("another merchant's key replayed: %s", r.raw)
		}
	})

	t.Run("ValidationFailureStoresNothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m := b.newMerchant(t)
		requireStatus(t, b.do(t, create(m, "k-3", map[string]any{"email": "broken"})), http.StatusBadRequest)
		// The corrected request may reuse the key.
		requireStatus(t, b.do(t, create(m, "k-3", map[string]any{"email": "fixed@example.com"})), http.StatusCreated)
	})

	t.Run("ConflictIsStored", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m := b.newMerchant(t)
		requireStatus(t, b.do(t, create(m, "k-4", map[string]any{"external_id": "x"})), http.StatusCreated)
		requireStatus(t, b.do(t, create(m, "k-5", map[string]any{"external_id": "x"})), http.StatusConflict)
		r := b.do(t, create(m, "k-5", map[string]any{"external_id": "x"}))
		requireStatus(t, r, http.StatusConflict)
		if r.header.Get("Idempotent-Replayed") != "true" {
			t.Fatal("a stored 409 was not replayed")
		}
	})

	t.Run("BadKey", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m := b.newMerchant(t)
		long := make([]byte, 256)
		for i := range long {
			long[i] = 'k'
		}
		requireStatus(t, b.do(t, create(m, string(long), map[string]any{})), http.StatusBadRequest)
	})

	t.Run("FiftyConcurrentRequestsOneExecution", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m := b.newMerchant(t)
		const n = 50
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			statuses = map[int]int{}
			ids      = map[string]bool{}
		)
		start := make(chan struct{})
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				r := b.do(t, create(m, "same-key", map[string]any{"name": "Concurrent"}))
				mu.Lock()
				defer mu.Unlock()
				statuses[r.status]++
				if r.status == http.StatusCreated {
					ids[r.str("id")] = true
				}
			}()
		}
		close(start)
		wg.Wait()
		if statuses[http.StatusCreated]+statuses[http.StatusConflict] != n {
			t.Fatalf("statuses %v: want only 201 (first or replay) and 409 (in flight)", statuses)
		}
		if len(ids) != 1 {
			t.Fatalf("%d different customers returned, want 1", len(ids))
		}
		if got := countCustomers(t, b, m); got != 1 {
			t.Fatalf("%d customers created by %d concurrent requests with one key, want 1", got, n)
		}
	})
}
