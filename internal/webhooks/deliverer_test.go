package webhooks

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/store"
	"github.com/billingd/billingd/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// deliverBundle is one pending delivery of a payment.paid event to a
// receiver that answers with answer.
type deliverBundle struct {
	store     *store.Store
	deliverer *Deliverer
	delivery  billing.WebhookDelivery
	endpoint  billing.WebhookEndpoint
	hits      *atomic.Int32
}

func setupDelivery(t *testing.T, guard Guard, answer http.HandlerFunc) deliverBundle {
	t.Helper()
	ctx := context.Background()
	st := storetest.NewStore(t)
	hits := &atomic.Int32{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		answer(w, r)
	}))
	t.Cleanup(srv.Close)
	m, err := st.CreateMerchant(ctx, billing.Merchant{ID: billing.NewID(billing.PrefixMerchant), Name: "Shop"})
	if err != nil {
		t.Fatal(err)
	}
	ep, err := st.CreateWebhookEndpoint(ctx, billing.WebhookEndpoint{ID: billing.NewID(billing.PrefixWebhookEndpoint), MerchantID: m.ID,
		Mode: billing.ModeTest, URL: srv.URL + "/hooks", EnabledEvents: []string{"*"}, Status: billing.EndpointEnabled, Secret: NewSecret()})
	if err != nil {
		t.Fatal(err)
	}
	e := billing.NewEvent(m.ID, billing.ModeTest, billing.EventPaymentPaid, "payment", "pay_1", map[string]any{"amount": 9900})
	if err := st.WithTx(ctx, func(tx pgx.Tx) error { return st.InsertEvent(ctx, tx, e) }); err != nil {
		t.Fatal(err)
	}
	list, err := st.DeliveriesOfEvent(ctx, m.ID, billing.ModeTest, e.ID)
	if err != nil || len(list) != 1 {
		t.Fatalf("deliveries %v (%v)", list, err)
	}
	d := New(Options{Store: st, Guard: guard, Client: NewClient(guard, nil)})
	return deliverBundle{store: st, deliverer: d, delivery: list[0], endpoint: ep, hits: hits}
}

func (b deliverBundle) reload(t *testing.T) billing.WebhookDelivery {
	t.Helper()
	list, err := b.store.DeliveriesOfEvent(context.Background(), b.delivery.MerchantID, billing.ModeTest, b.delivery.EventID)
	if err != nil {
		t.Fatal(err)
	}
	return list[0]
}

var open = Guard{AllowPrivate: true}

func TestDeliver(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("RunningTwiceSendsOnce", func(t *testing.T) {
		t.Parallel()
		b := setupDelivery(t, open, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
		for range 2 {
			out, err := b.deliverer.Deliver(ctx, b.delivery.ID, 0, 1, false)
			if err != nil || out.State != billing.DeliveryDelivered {
				t.Fatalf("outcome %+v (%v)", out, err)
			}
		}
		if n := b.hits.Load(); n != 1 {
			t.Fatalf("%d requests, want 1", n)
		}
		if d := b.reload(t); d.DeliveredAt == nil || d.AttemptCount != 1 || *d.Attempts[0].StatusCode != 204 {
			t.Fatalf("delivery %+v", d)
		}
	})

	t.Run("FailureSchedulesRetryHonouringRetryAfter", func(t *testing.T) {
		t.Parallel()
		b := setupDelivery(t, open, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(strings.Repeat("x", 5000)))
		})
		before := time.Now()
		out, err := b.deliverer.Deliver(ctx, b.delivery.ID, 0, 1, false)
		if err != nil || out.State != billing.DeliveryPending || out.Err == nil {
			t.Fatalf("outcome %+v (%v)", out, err)
		}
		if out.RetryAt.Before(before.Add(time.Hour)) {
			t.Fatalf("retry at %s ignores Retry-After: 3600", out.RetryAt)
		}
		d := b.reload(t)
		if d.NextAttemptAt == nil || !d.NextAttemptAt.Equal(out.RetryAt.Truncate(time.Microsecond)) || len(*d.Attempts[0].ResponseBody) != maxSnippet {
			t.Fatalf("delivery %+v", d)
		}
	})

	t.Run("ScheduleStepWhenLongerThanRetryAfter", func(t *testing.T) {
		t.Parallel()
		b := setupDelivery(t, open, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
		})
		before := time.Now()
		out, _ := b.deliverer.Deliver(ctx, b.delivery.ID, 0, 3, false) // after the 3rd attempt: 30 m
		if out.RetryAt.Before(before.Add(30*time.Minute)) || out.RetryAt.After(before.Add(34*time.Minute)) {
			t.Fatalf("retry at %s, want 30 m (+ up to 10%% jitter)", out.RetryAt.Sub(before))
		}
	})

	t.Run("FinalAttemptFails", func(t *testing.T) {
		t.Parallel()
		b := setupDelivery(t, open, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
		out, err := b.deliverer.Deliver(ctx, b.delivery.ID, 0, 8, true)
		if err != nil || out.State != billing.DeliveryFailed {
			t.Fatalf("outcome %+v (%v)", out, err)
		}
		if d := b.reload(t); d.State != billing.DeliveryFailed || d.NextAttemptAt != nil {
			t.Fatalf("delivery %+v", d)
		}
	})

	t.Run("SupersededRunSendsNothing", func(t *testing.T) {
		t.Parallel()
		b := setupDelivery(t, open, func(w http.ResponseWriter, _ *http.Request) {})
		out, err := b.deliverer.Deliver(ctx, b.delivery.ID, 1, 1, false) // the delivery is at run 0
		if err != nil || out.Err != nil || b.hits.Load() != 0 {
			t.Fatalf("outcome %+v (%v), %d requests", out, err, b.hits.Load())
		}
	})

	t.Run("DisabledEndpointCancels", func(t *testing.T) {
		t.Parallel()
		b := setupDelivery(t, open, func(w http.ResponseWriter, _ *http.Request) {})
		if _, err := b.store.UpdateWebhookEndpoint(ctx, b.delivery.MerchantID, billing.ModeTest, b.endpoint.ID, func(e *billing.WebhookEndpoint) error {
			e.Status = billing.EndpointDisabled
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		out, err := b.deliverer.Deliver(ctx, b.delivery.ID, 0, 1, false)
		if err != nil || out.State != billing.DeliveryCanceled || b.hits.Load() != 0 {
			t.Fatalf("outcome %+v (%v)", out, err)
		}
	})

	t.Run("GuardRecordsABlockedAttempt", func(t *testing.T) {
		t.Parallel()
		b := setupDelivery(t, Guard{}, func(w http.ResponseWriter, _ *http.Request) {})
		out, err := b.deliverer.Deliver(ctx, b.delivery.ID, 0, 1, false)
		if err != nil || out.State != billing.DeliveryPending || b.hits.Load() != 0 {
			t.Fatalf("outcome %+v (%v), %d requests", out, err, b.hits.Load())
		}
		a := b.reload(t).Attempts[0]
		if a.StatusCode != nil || a.Error == nil || *a.Error != ErrBlockedAddress.Error() {
			t.Fatalf("attempt %+v", a)
		}
	})
}
