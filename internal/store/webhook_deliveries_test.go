package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/store"
	"github.com/billingd/billingd/internal/store/storetest"
)

// outboxBundle is a merchant with webhook endpoints in test mode.
type outboxBundle struct {
	store *store.Store
	m     billing.Merchant
}

func setupOutbox(t *testing.T) outboxBundle {
	t.Helper()
	s := storetest.NewStore(t)
	return outboxBundle{store: s, m: mustMerchant(t, s)}
}

func (b outboxBundle) mustEndpoint(t *testing.T, events ...string) billing.WebhookEndpoint {
	t.Helper()
	e := billing.WebhookEndpoint{ID: billing.NewID(billing.PrefixWebhookEndpoint), MerchantID: b.m.ID, Mode: billing.ModeTest,
		URL: "https://shop.example.com/hooks", EnabledEvents: events, Status: billing.EndpointEnabled, Secret: "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}
	e, err := b.store.CreateWebhookEndpoint(context.Background(), e)
	if err != nil {
		t.Fatalf("create endpoint: %v", err)
	}
	return e
}

// emit writes an event in its own transaction; fail makes the transaction
// roll back after the event was written.
func (b outboxBundle) emit(t *testing.T, typ string, fail error) (billing.Event, error) {
	t.Helper()
	e := billing.NewEvent(b.m.ID, billing.ModeTest, typ, "payment", "pay_1", map[string]any{"amount": 1})
	err := b.store.WithTx(context.Background(), func(tx pgx.Tx) error {
		if err := b.store.InsertEvent(context.Background(), tx, e); err != nil {
			return err
		}
		return fail
	})
	return e, err
}

func (b outboxBundle) deliveries(t *testing.T, eventID string) []billing.WebhookDelivery {
	t.Helper()
	list, err := b.store.DeliveriesOfEvent(context.Background(), b.m.ID, billing.ModeTest, eventID)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func TestOutboxFanOut(t *testing.T) {
	t.Parallel()

	t.Run("MatchingEndpointsOnly", func(t *testing.T) {
		t.Parallel()
		b := setupOutbox(t)
		all := b.mustEndpoint(t, "*")
		paid := b.mustEndpoint(t, "payment.paid")
		payments := b.mustEndpoint(t, "payment.*")
		b.mustEndpoint(t, "refund.succeeded")
		off := b.mustEndpoint(t, "*")
		if _, err := b.store.UpdateWebhookEndpoint(context.Background(), b.m.ID, billing.ModeTest, off.ID, func(e *billing.WebhookEndpoint) error {
			e.Status = billing.EndpointDisabled
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		e, err := b.emit(t, billing.EventPaymentPaid, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, d := range b.deliveries(t, e.ID) {
			got[d.EndpointID] = true
			if d.State != billing.DeliveryPending {
				t.Fatalf("new delivery %+v", d)
			}
		}
		if len(got) != 3 || !got[all.ID] || !got[paid.ID] || !got[payments.ID] {
			t.Fatalf("deliveries to %v", got)
		}
		// The SQL rule and billing.EventMatches agree.
		for _, ep := range [][]string{{"*"}, {"payment.paid"}, {"payment.*"}, {"refund.succeeded"}} {
			if billing.EventMatches(ep, billing.EventPaymentPaid) != (ep[0] != "refund.succeeded") {
				t.Fatalf("EventMatches(%v)", ep)
			}
		}
	})

	t.Run("RolledBackEventHasNoDeliveries", func(t *testing.T) {
		t.Parallel()
		b := setupOutbox(t)
		b.mustEndpoint(t, "*")
		boom := errors.New("the change failed")
		if _, err := b.emit(t, billing.EventPaymentPaid, boom); !errors.Is(err, boom) {
			t.Fatal(err)
		}
		var n int
		if err := b.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM webhook_deliveries`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d deliveries after a rollback (%v)", n, err)
		}
	})

	t.Run("EnqueuerJoinsTheTransaction", func(t *testing.T) {
		t.Parallel()
		b := setupOutbox(t)
		b.mustEndpoint(t, "*")
		var enqueued []store.DeliveryRef
		b.store.SetDeliveryEnqueuer(func(_ context.Context, _ pgx.Tx, refs []store.DeliveryRef) error {
			enqueued = append(enqueued, refs...)
			return nil
		})
		e, err := b.emit(t, billing.EventPaymentPaid, nil)
		if err != nil || len(enqueued) != 1 || enqueued[0].ID != b.deliveries(t, e.ID)[0].ID {
			t.Fatalf("enqueued %v (%v)", enqueued, err)
		}
		// An enqueue that fails fails the change: no event without its job.
		b.store.SetDeliveryEnqueuer(func(context.Context, pgx.Tx, []store.DeliveryRef) error { return errors.New("queue down") })
		e2, err := b.emit(t, billing.EventPaymentPaid, nil)
		if err == nil {
			t.Fatal("the event committed without its delivery jobs")
		}
		if _, err := b.store.GetEvent(context.Background(), b.m.ID, billing.ModeTest, e2.ID); billing.ErrorCode(err) != billing.ENotFound {
			t.Fatalf("event after a failed enqueue: %v", err)
		}
	})

	t.Run("DispatchEnqueuesUnqueuedOnce", func(t *testing.T) {
		t.Parallel()
		b := setupOutbox(t)
		b.mustEndpoint(t, "*")
		b.mustEndpoint(t, "*")
		if _, err := b.emit(t, billing.EventPaymentPaid, nil); err != nil { // no enqueuer: no jobs yet
			t.Fatal(err)
		}
		var got []store.DeliveryRef
		collect := func(_ context.Context, _ pgx.Tx, refs []store.DeliveryRef) error {
			got = append(got, refs...)
			return nil
		}
		staleBefore := time.Now().Add(-time.Hour)
		if n, err := b.store.DispatchPendingDeliveries(context.Background(), staleBefore, 10, collect); err != nil || n != 2 {
			t.Fatalf("dispatched %d (%v)", n, err)
		}
		if n, err := b.store.DispatchPendingDeliveries(context.Background(), staleBefore, 10, collect); err != nil || n != 0 {
			t.Fatalf("dispatched again: %d (%v)", n, err)
		}
		// A delivery whose job was lost (next attempt long past) is taken again.
		if _, err := b.store.Pool().Exec(context.Background(), `UPDATE webhook_deliveries SET next_attempt_at = now() - interval '2 hours'
			WHERE id = $1`, got[0].ID); err != nil {
			t.Fatal(err)
		}
		if n, err := b.store.DispatchPendingDeliveries(context.Background(), staleBefore, 10, collect); err != nil || n != 1 {
			t.Fatalf("stale dispatch %d (%v)", n, err)
		}
	})
}

func TestWebhookAttempts(t *testing.T) {
	t.Parallel()

	t.Run("RecordAndSettle", func(t *testing.T) {
		t.Parallel()
		b := setupOutbox(t)
		ep := b.mustEndpoint(t, "*")
		e, _ := b.emit(t, billing.EventPaymentPaid, nil)
		d := b.deliveries(t, e.ID)[0]
		code, msg, next := 503, "busy", time.Now().Add(time.Minute)
		a, err := b.store.RecordWebhookAttempt(context.Background(), d.ID, store.AttemptResult{State: billing.DeliveryPending, NextAttemptAt: &next,
			Attempt: billing.WebhookAttempt{ID: billing.NewID(billing.PrefixWebhookAttempt), URL: ep.URL, Outcome: billing.AttemptFailed,
				StatusCode: &code, Error: &msg, Duration: 12 * time.Millisecond}})
		if err != nil || a.Attempt != 1 {
			t.Fatalf("attempt %+v (%v)", a, err)
		}
		code = 410
		if _, err := b.store.RecordWebhookAttempt(context.Background(), d.ID, store.AttemptResult{State: billing.DeliveryFailed, DisableReason: "410",
			Attempt: billing.WebhookAttempt{ID: billing.NewID(billing.PrefixWebhookAttempt), URL: ep.URL, Outcome: billing.AttemptGone, StatusCode: &code}}); err != nil {
			t.Fatal(err)
		}
		got := b.deliveries(t, e.ID)[0]
		if got.State != billing.DeliveryFailed || got.AttemptCount != 2 || len(got.Attempts) != 2 || got.Attempts[1].Attempt != 2 || got.NextAttemptAt != nil {
			t.Fatalf("delivery %+v", got)
		}
		after, _, err := b.store.WebhookEndpointForDelivery(context.Background(), ep.ID)
		if err != nil || after.Status != billing.EndpointDisabled {
			t.Fatalf("endpoint %+v (%v)", after, err)
		}
	})

	t.Run("DeleteCancelsPending", func(t *testing.T) {
		t.Parallel()
		b := setupOutbox(t)
		ep := b.mustEndpoint(t, "*")
		e, _ := b.emit(t, billing.EventPaymentPaid, nil)
		if err := b.store.DeleteWebhookEndpoint(context.Background(), b.m.ID, billing.ModeTest, ep.ID); err != nil {
			t.Fatal(err)
		}
		if d := b.deliveries(t, e.ID)[0]; d.State != billing.DeliveryCanceled {
			t.Fatalf("delivery %+v", d)
		}
		requireCode(t, b.store.DeleteWebhookEndpoint(context.Background(), b.m.ID, billing.ModeTest, ep.ID), billing.ENotFound)
	})
}

func TestPruneEvents(t *testing.T) {
	t.Parallel()
	b := setupOutbox(t)
	b.mustEndpoint(t, "*")
	old, _ := b.emit(t, billing.EventPaymentPaid, nil)      // pending, but stale
	busy, _ := b.emit(t, billing.EventPaymentFailed, nil)   // pending and in its retry window
	done, _ := b.emit(t, billing.EventPaymentRefunded, nil) // delivered
	fresh, _ := b.emit(t, billing.EventPaymentPaid, nil)    // young
	ctx := context.Background()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := b.store.Pool().Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`UPDATE events SET created_at = now() - interval '40 days' WHERE id = ANY ($1)`, []string{old.ID, busy.ID, done.ID})
	exec(`UPDATE webhook_deliveries SET updated_at = now() - interval '3 days' WHERE event_id = $1`, old.ID)
	exec(`UPDATE webhook_deliveries SET state = 'delivered' WHERE event_id = $1`, done.ID)

	n, err := b.store.PruneEvents(ctx, time.Now().Add(-30*24*time.Hour), time.Now().Add(-28*time.Hour), 1)
	if err != nil || n != 2 {
		t.Fatalf("pruned %d (%v), want 2", n, err)
	}
	for id, kept := range map[string]bool{old.ID: false, busy.ID: true, done.ID: false, fresh.ID: true} {
		_, err := b.store.GetEvent(ctx, b.m.ID, billing.ModeTest, id)
		if (err == nil) != kept {
			t.Errorf("event %s kept=%v, want %v", id, err == nil, kept)
		}
	}
	var orphans int
	if err := b.store.Pool().QueryRow(ctx, `SELECT count(*) FROM webhook_deliveries d
		WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = d.event_id)`).Scan(&orphans); err != nil || orphans != 0 {
		t.Fatalf("%d orphan deliveries (%v)", orphans, err)
	}
}

func TestWebhookEndpointSecretsAreSealed(t *testing.T) {
	t.Parallel()
	b := setupOutbox(t)
	ep := b.mustEndpoint(t, "*")
	got, err := b.store.UpdateWebhookEndpoint(context.Background(), b.m.ID, billing.ModeTest, ep.ID, func(e *billing.WebhookEndpoint) error {
		e.Rotate("whsec_bmV3c2VjcmV0bmV3c2VjcmV0bmV3c2VjcmV0", time.Now(), time.Hour)
		return nil
	})
	if err != nil || got.Secret == ep.Secret || len(got.PreviousSecrets) != 1 || got.PreviousSecrets[0].Secret != ep.Secret {
		t.Fatalf("rotated %+v (%v)", got, err)
	}
	// A sealed secret copied onto another row does not open there.
	other := b.mustEndpoint(t, "*")
	if _, err := b.store.Pool().Exec(context.Background(), `UPDATE webhook_endpoints SET secret_sealed = (SELECT secret_sealed FROM webhook_endpoints WHERE id = $1)
		WHERE id = $2`, ep.ID, other.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := b.store.GetWebhookEndpoint(context.Background(), b.m.ID, billing.ModeTest, other.ID); err == nil {
		t.Fatal("a secret sealed for another endpoint opened")
	}
}
