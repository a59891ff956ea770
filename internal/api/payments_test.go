package api

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/billingd/billingd/internal/payments"
)

func TestCharge(t *testing.T) {
	t.Parallel()

	t.Run("Paid", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		key := b.activeKey(t, "payco")
		r := b.charge(t, "pay-1", map[string]any{"billing_key_id": key, "amount": 9900, "order_name": "Monthly plan", "metadata": map[string]any{"order": "A-1"}})
		requireStatus(t, r, http.StatusCreated)
		id := r.str("id")
		if r.str("status") != "paid" || r.str("provider_payment_id") == "" || r.body["paid_at"] == nil {
			t.Fatalf("payment %s", r.raw)
		}
		pg, ok := b.sandbox.Iamport.Payment(r.str("provider_payment_id"))
		if !ok || pg.MerchantUID != id || pg.Amount != 9900 {
			t.Fatalf("the PG's payment %+v does not carry our id as merchant_uid", pg)
		}
		if got := b.eventTypes(t, id); !slices.Equal(got, []string{"payment.paid"}) {
			t.Fatalf("events %v", got)
		}
		// The customer's default key is used when none is named.
		byCustomer := b.charge(t, "pay-2", map[string]any{"customer_id": b.customer, "amount": 1000, "order_name": "x"})
		requireStatus(t, byCustomer, http.StatusCreated)
		if byCustomer.str("billing_key_id") != key {
			t.Fatalf("charged %s, want the default %s", byCustomer.str("billing_key_id"), key)
		}
		list := b.do(t, request{method: "GET", path: "/v1/payments?status=paid&customer_id=" + b.customer, auth: b.m.secret})
		if len(list.body["data"].([]any)) != 2 {
			t.Fatalf("list %s", list.raw)
		}
	})

	t.Run("Declined", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		key := b.activeKey(t, "payco")
		r := b.charge(t, "decl-1", map[string]any{"billing_key_id": key, "amount": 1004, "order_name": "x"})
		requireStatus(t, r, http.StatusPaymentRequired)
		if r.errorType() != "card_error" {
			t.Fatalf("decline %s", r.raw)
		}
		p := r.body["error"].(map[string]any)["payment"].(map[string]any)
		if p["status"] != "failed" || p["failure_message"] == nil {
			t.Fatalf("the error does not carry the failed payment: %s", r.raw)
		}
		if got := b.eventTypes(t, p["id"].(string)); !slices.Equal(got, []string{"payment.failed"}) {
			t.Fatalf("events %v", got)
		}
	})

	t.Run("LostReplyIsUnknownThenPaidOnce", func(t *testing.T) {
		t.Parallel()
		// 6: the PG records the payment, then answers 500; 9: it records it
		// and drops the connection. Either way the charge happened.
		for _, amount := range []int{1006, 1009} {
			t.Run(fmt.Sprint(amount), func(t *testing.T) {
				b := setupPaymentsWith(t, bundleOpts{noJobs: true})
				key := b.activeKey(t, "payco")
				r := b.charge(t, "lost", map[string]any{"billing_key_id": key, "amount": amount, "order_name": "x"})
				requireStatus(t, r, http.StatusAccepted)
				id := r.str("id")
				if r.str("status") != "unknown" {
					t.Fatalf("payment %s", r.raw)
				}
				// The retry with the same key does not charge again.
				retry := b.charge(t, "lost", map[string]any{"billing_key_id": key, "amount": amount, "order_name": "x"})
				if retry.str("id") != id {
					t.Fatalf("retry returned another payment: %s", retry.raw)
				}
				if n := b.pgCalls("POST /subscribe/payments/again"); n != 1 {
					t.Fatalf("%d charges at the PG, want 1", n)
				}
				// A reconcile job was queued in the same transaction.
				var jobs int
				if err := b.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM river_job WHERE kind = 'reconcile_payment' AND args->>'payment_id' = $1`, id).Scan(&jobs); err != nil || jobs != 1 {
					t.Fatalf("%d reconcile jobs, %v", jobs, err)
				}
				p, err := b.payments.Reconcile(t.Context(), id)
				if err != nil || p.Status != "paid" {
					t.Fatalf("Reconcile = %s, %v", p.Status, err)
				}
				if _, err := b.payments.Reconcile(t.Context(), id); err != nil {
					t.Fatalf("a second reconcile: %v", err)
				}
				if got := b.eventTypes(t, id); !slices.Equal(got, []string{"payment.unknown", "payment.paid"}) {
					t.Fatalf("events %v", got)
				}
				if orders := b.sandbox.Iamport.PaymentsByOrder(id); len(orders) != 1 {
					t.Fatalf("%d PG payments for the order", len(orders))
				}
			})
		}
	})

	t.Run("NeverReachedThePG", func(t *testing.T) {
		t.Parallel()
		b := setupPaymentsWith(t, bundleOpts{noJobs: true})
		key := b.activeKey(t, "payco")
		// 7: a 502 from a proxy; the PG recorded nothing.
		r := b.charge(t, "gw", map[string]any{"billing_key_id": key, "amount": 1007, "order_name": "x"})
		requireStatus(t, r, http.StatusAccepted)
		id := r.str("id")
		// Right after, "not found" may just be slow: it stays unknown.
		if _, err := b.payments.Reconcile(t.Context(), id); !errors.Is(err, payments.ErrStillUnknown) {
			t.Fatalf("early reconcile: %v", err)
		}
		// Long after, the PG's "never heard of it" settles it as failed.
		if _, err := b.store.Pool().Exec(t.Context(), `UPDATE payments SET created_at = now() - interval '1 hour' WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		p, err := b.payments.Reconcile(t.Context(), id)
		if err != nil || p.Status != "failed" {
			t.Fatalf("late reconcile: %s, %v", p.Status, err)
		}
	})

	t.Run("Validation", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		key := b.activeKey(t, "payco")
		for _, tt := range []struct {
			body  map[string]any
			param string
		}{
			{map[string]any{"billing_key_id": key, "amount": 0, "order_name": "x"}, "amount"},
			{map[string]any{"billing_key_id": key, "amount": 1.5, "order_name": "x"}, "amount"},
			{map[string]any{"billing_key_id": key, "amount": "100", "order_name": "x"}, "amount"},
			{map[string]any{"billing_key_id": key, "amount": 100, "order_name": ""}, "order_name"},
			{map[string]any{"billing_key_id": key, "amount": 100, "tax_free": 200, "order_name": "x"}, "tax_free"},
			{map[string]any{"billing_key_id": key, "amount": 100, "currency": "USD", "order_name": "x"}, "currency"},
			{map[string]any{"amount": 100, "order_name": "x"}, "billing_key_id"},
			{map[string]any{"billing_key_id": "bk_nope", "amount": 100, "order_name": "x"}, "billing_key_id"},
		} {
			r := b.charge(t, fmt.Sprintf("v-%v", tt.body), tt.body)
			requireStatus(t, r, http.StatusBadRequest)
			if r.errorField("param") != tt.param {
				t.Fatalf("%v: param %q, want %q", tt.body, r.errorField("param"), tt.param)
			}
		}
		requireStatus(t, b.do(t, request{method: "GET", path: "/v1/payments?status=bogus", auth: b.m.secret}), http.StatusBadRequest)
		requireStatus(t, b.do(t, request{method: "GET", path: "/v1/subscriptions?status=bogus", auth: b.m.secret}), http.StatusBadRequest)
		noKey := b.do(t, request{method: "POST", path: "/v1/payments", auth: b.m.secret,
			body: map[string]any{"billing_key_id": key, "amount": 100, "order_name": "x"}})
		requireStatus(t, noKey, http.StatusBadRequest)
		if noKey.errorField("param") != "Idempotency-Key" {
			t.Fatalf("charge without Idempotency-Key: %s", noKey.raw)
		}
		if n := b.pgCalls("POST /subscribe/payments/again"); n != 0 {
			t.Fatalf("invalid requests reached the PG %d times", n)
		}
	})

	t.Run("FiftyConcurrentRequestsOnePGCall", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		key := b.activeKey(t, "payco")
		var (
			wg  sync.WaitGroup
			mu  sync.Mutex
			ids = map[string]int{}
		)
		start := make(chan struct{})
		for range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				r := b.charge(t, "one-charge", map[string]any{"billing_key_id": key, "amount": 5000, "order_name": "x"})
				mu.Lock()
				defer mu.Unlock()
				if r.status == http.StatusCreated {
					ids[r.str("id")]++
				} else if r.status != http.StatusConflict {
					t.Errorf("status %d: %s", r.status, r.raw)
				}
			}()
		}
		close(start)
		wg.Wait()
		if n := b.pgCalls("POST /subscribe/payments/again"); n != 1 {
			t.Fatalf("%d PG charges for one Idempotency-Key, want 1", n)
		}
		if len(ids) != 1 {
			t.Fatalf("payments returned: %v", ids)
		}
	})

	t.Run("ThousandChargesOneToken", func(t *testing.T) {
		t.Parallel()
		if testing.Short() {
			t.Skip("1,000 charges")
		}
		b := setupPayments(t)
		key := b.activeKey(t, "payco")
		tokensBefore := b.pgCalls("POST /users/getToken")
		var wg sync.WaitGroup
		work := make(chan int)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					r := b.charge(t, fmt.Sprintf("bulk-%d", i), map[string]any{"billing_key_id": key, "amount": 1000, "order_name": "x"})
					if r.status != http.StatusCreated {
						t.Errorf("charge %d: %d %s", i, r.status, r.raw)
					}
				}
			}()
		}
		for i := range 1000 {
			work <- i
		}
		close(work)
		wg.Wait()
		if n := b.pgCalls("POST /subscribe/payments/again"); n != 1000 {
			t.Fatalf("%d charges reached the PG", n)
		}
		if n := b.pgCalls("POST /users/getToken") - tokensBefore; n != 0 {
			t.Fatalf("1,000 charges asked for %d more tokens (the key's confirm already got one)", n)
		}
		if n := b.sandbox.Iamport.TokenIssued(); n != 1 {
			t.Fatalf("the PG issued %d tokens, want 1", n)
		}
	})
}
