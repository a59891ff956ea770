package api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/billingd/billingd/internal/billing"
)

// receiver is a merchant's webhook endpoint: it records each request and
// answers with answer(n), n counting from 1.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	answer func(n int, w http.ResponseWriter)
}

type received struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, answer func(n int, w http.ResponseWriter)) *receiver {
	t.Helper()
	rc := &receiver{answer: answer}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{header: r.Header.Clone(), body: body})
		n := len(rc.got)
		rc.mu.Unlock()
		if rc.answer != nil {
			rc.answer(n, w)
		}
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// waitFor waits until the receiver has at least n requests.
func (rc *receiver) waitFor(t *testing.T, n int) []received {
	t.Helper()
	requireEventually(t, "webhook requests", func() bool { return len(rc.requests()) >= n })
	return rc.requests()
}

// emit writes an event for the merchant the way billing code does: in a
// transaction, through InsertEvent (which fans out to endpoints).
func (b *testBundle) emit(t *testing.T, merchantID, typ, objectID string) billing.Event {
	t.Helper()
	e := billing.NewEvent(merchantID, billing.ModeTest, typ, "payment", objectID, map[string]any{"id": objectID, "amount": 9900})
	if err := b.store.WithTx(t.Context(), func(tx pgx.Tx) error { return b.store.InsertEvent(t.Context(), tx, e) }); err != nil {
		t.Fatal(err)
	}
	return e
}

// deliveries lists an event's deliveries through the API.
func (b *testBundle) deliveries(t *testing.T, auth, eventID string) []map[string]any {
	t.Helper()
	r := b.do(t, request{method: "GET", path: "/v1/events/" + eventID + "/deliveries", auth: auth})
	requireStatus(t, r, http.StatusOK)
	var out []map[string]any
	for _, d := range r.body["data"].([]any) {
		out = append(out, d.(map[string]any))
	}
	return out
}

// requireVerifies checks a request's signature with the Standard Webhooks
// reference library: an implementation independent of billingd's.
func requireVerifies(t *testing.T, secret string, req received) {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(req.body, req.header); err != nil {
		t.Fatalf("the reference library rejects billingd's signature: %v (headers %v)", err, req.header)
	}
}

func TestWebhookDelivery(t *testing.T) {
	t.Parallel()

	t.Run("PaidChargeIsSignedAndDelivered", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		rc := newReceiver(t, nil)
		ep := b.createEndpoint(t, b.m.secret, map[string]any{"url": rc.URL + "/hooks", "enabled_events": []string{"payment.paid"}})
		requireStatus(t, ep, http.StatusCreated)
		key := b.activeKey(t, "payco") // billing_key.activated: not subscribed
		pay := b.charge(t, "evt-1", map[string]any{"billing_key_id": key, "amount": 9900, "order_name": "Plan"})
		requireStatus(t, pay, http.StatusCreated)

		got := rc.waitFor(t, 1)[0]
		requireVerifies(t, ep.str("secret"), got)
		if !strings.Contains(string(got.body), `"type":"payment.paid"`) || !strings.Contains(string(got.body), pay.str("id")) {
			t.Fatalf("body %s", got.body)
		}
		// The body is the event as the API shows it.
		events := b.do(t, request{method: "GET", path: "/v1/events?type=payment.paid&object_id=" + pay.str("id"), auth: b.m.secret})
		requireStatus(t, events, http.StatusOK)
		data := events.body["data"].([]any)
		if len(data) != 1 {
			t.Fatalf("events %s", events.raw)
		}
		evtID := data[0].(map[string]any)["id"].(string)
		one := b.do(t, request{method: "GET", path: "/v1/events/" + evtID, auth: b.m.secret})
		requireStatus(t, one, http.StatusOK)
		if strings.TrimSpace(string(one.raw)) != string(got.body) {
			t.Fatalf("delivered body differs from GET /v1/events/{id}:\n%s\n%s", got.body, one.raw)
		}
		requireEventually(t, "the delivery recorded", func() bool {
			d := b.deliveries(t, b.m.secret, evtID)
			return len(d) == 1 && d[0]["state"] == "delivered"
		})
		d := b.deliveries(t, b.m.secret, evtID)[0]
		if d["id"] != got.header.Get("webhook-id") || len(d["attempts"].([]any)) != 1 {
			t.Fatalf("delivery %v, webhook-id %s", d, got.header.Get("webhook-id"))
		}
		time.Sleep(200 * time.Millisecond)
		if n := len(rc.requests()); n != 1 {
			t.Fatalf("%d requests: unsubscribed events were sent, or a delivered one twice", n)
		}
	})

	t.Run("RetriesUntil2xxHonouringRetryAfter", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m := b.newMerchant(t)
		rc := newReceiver(t, func(n int, w http.ResponseWriter) {
			if n == 1 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = io.WriteString(w, "busy")
			}
		})
		requireStatus(t, b.createEndpoint(t, m.secret, map[string]any{"url": rc.URL, "enabled_events": []string{"*"}}), http.StatusCreated)
		e := b.emit(t, m.id, billing.EventPaymentPaid, "pay_x")
		got := rc.waitFor(t, 2)
		if got[0].header.Get("webhook-id") != got[1].header.Get("webhook-id") {
			t.Fatal("a retry must keep the webhook-id")
		}
		if gap := retryGap(t, got); gap < time.Second {
			t.Fatalf("retried after %s despite Retry-After: 1", gap)
		}
		requireEventually(t, "delivered", func() bool { return b.deliveries(t, m.secret, e.ID)[0]["state"] == "delivered" })
		attempts := b.deliveries(t, m.secret, e.ID)[0]["attempts"].([]any)
		first := attempts[0].(map[string]any)
		if len(attempts) != 2 || first["status_code"] != float64(503) || first["response_body"] != "busy" || first["outcome"] != "failed" {
			t.Fatalf("attempts %v", attempts)
		}
	})

	t.Run("GoneDisablesTheEndpoint", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m := b.newMerchant(t)
		rc := newReceiver(t, func(_ int, w http.ResponseWriter) { w.WriteHeader(http.StatusGone) })
		ep := b.createEndpoint(t, m.secret, map[string]any{"url": rc.URL, "enabled_events": []string{"payment.*"}})
		e := b.emit(t, m.id, billing.EventPaymentFailed, "pay_y")
		requireEventually(t, "the delivery failed", func() bool { return b.deliveries(t, m.secret, e.ID)[0]["state"] == "failed" })
		got := b.do(t, request{method: "GET", path: "/v1/webhook_endpoints/" + ep.str("id"), auth: m.secret})
		if got.str("status") != "disabled" || !strings.Contains(got.str("disabled_reason"), "410") {
			t.Fatalf("endpoint %s", got.raw)
		}
		// A disabled endpoint gets no new deliveries.
		e2 := b.emit(t, m.id, billing.EventPaymentPaid, "pay_z")
		if d := b.deliveries(t, m.secret, e2.ID); len(d) != 0 {
			t.Fatalf("deliveries to a disabled endpoint: %v", d)
		}
		if n := len(rc.requests()); n != 1 {
			t.Fatalf("%d requests after a 410, want 1", n)
		}
	})

	t.Run("RotationSignsWithBothSecretsAndResendKeepsID", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m := b.newMerchant(t)
		rc := newReceiver(t, nil)
		ep := b.createEndpoint(t, m.secret, map[string]any{"url": rc.URL, "enabled_events": []string{"*"}})
		e := b.emit(t, m.id, billing.EventPaymentPaid, "pay_r")
		first := rc.waitFor(t, 1)[0]
		requireEventually(t, "delivered", func() bool { return b.deliveries(t, m.secret, e.ID)[0]["state"] == "delivered" })

		rotated := b.do(t, request{method: "POST", path: "/v1/webhook_endpoints/" + ep.str("id") + "/rotate_secret", auth: m.secret})
		requireStatus(t, rotated, http.StatusOK)
		resent := b.do(t, request{method: "POST", path: "/v1/events/" + e.ID + "/resend", auth: m.secret})
		requireStatus(t, resent, http.StatusAccepted)
		again := rc.waitFor(t, 2)[1]
		if again.header.Get("webhook-id") != first.header.Get("webhook-id") {
			t.Fatal("a resend must keep the webhook-id")
		}
		if sigs := strings.Fields(again.header.Get("webhook-signature")); len(sigs) != 2 {
			t.Fatalf("during the overlap both secrets sign: %q", again.header.Get("webhook-signature"))
		}
		requireVerifies(t, ep.str("secret"), again)      // a receiver still on the old secret
		requireVerifies(t, rotated.str("secret"), again) // and one already on the new
		requireEventually(t, "delivered again", func() bool {
			d := b.deliveries(t, m.secret, e.ID)[0]
			return d["state"] == "delivered" && len(d["attempts"].([]any)) == 2
		})
	})

	t.Run("ResendRefusals", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m, other := b.newMerchant(t), b.newMerchant(t)
		e := b.emit(t, m.id, billing.EventPaymentPaid, "pay_n")
		r := b.do(t, request{method: "POST", path: "/v1/events/" + e.ID + "/resend", auth: m.secret})
		requireStatus(t, r, http.StatusConflict) // no endpoint subscribed
		r = b.do(t, request{method: "POST", path: "/v1/events/" + e.ID + "/resend", auth: m.secret, body: map[string]any{"webhook_endpoint_id": "we_nope"}})
		requireStatus(t, r, http.StatusBadRequest)
		requireStatus(t, b.do(t, request{method: "POST", path: "/v1/events/" + e.ID + "/resend", auth: other.secret}), http.StatusNotFound)
		requireStatus(t, b.do(t, request{method: "GET", path: "/v1/events/" + e.ID, auth: other.secret}), http.StatusNotFound)
		requireStatus(t, b.do(t, request{method: "GET", path: "/v1/events/" + e.ID + "/deliveries", auth: other.secret}), http.StatusNotFound)
	})
}

// retryGap is the time between the first two requests' webhook-timestamps.
func retryGap(t *testing.T, got []received) time.Duration {
	t.Helper()
	ts := func(r received) time.Time {
		tm, err := time.Parse(time.RFC3339, "1970-01-01T00:00:00Z")
		if err != nil {
			t.Fatal(err)
		}
		var secs int64
		for _, c := range r.header.Get("webhook-timestamp") {
			secs = secs*10 + int64(c-'0')
		}
		return tm.Add(time.Duration(secs) * time.Second)
	}
	return ts(got[1]).Sub(ts(got[0]))
}

func TestListEvents(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := b.newMerchant(t)
	for _, typ := range []string{billing.EventPaymentPaid, billing.EventPaymentRefunded, billing.EventRefundSucceeded, billing.EventPaymentPaid} {
		b.emit(t, m.id, typ, "pay_list")
	}
	b.emit(t, m.id, billing.EventPaymentPaid, "pay_other")
	for _, tc := range []struct {
		name, query string
		want        int
	}{
		{"All", "", 5},
		{"ByType", "?type=payment.paid", 3},
		{"ByObjectWildcard", "?type=refund.*", 1},
		{"ByObject", "?object_id=pay_list", 4},
		{"Both", "?type=payment.paid&object_id=pay_list", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := b.do(t, request{method: "GET", path: "/v1/events" + tc.query + sep(tc.query) + "limit=100", auth: m.secret})
			requireStatus(t, r, http.StatusOK)
			if n := len(r.body["data"].([]any)); n != tc.want {
				t.Fatalf("%d events, want %d: %s", n, tc.want, r.raw)
			}
		})
	}
	// Cursor pagination, newest first.
	page1 := b.do(t, request{method: "GET", path: "/v1/events?limit=2", auth: m.secret})
	if page1.body["has_more"] != true {
		t.Fatalf("page 1 %s", page1.raw)
	}
	last := page1.body["data"].([]any)[1].(map[string]any)["id"].(string)
	page2 := b.do(t, request{method: "GET", path: "/v1/events?limit=10&starting_after=" + last, auth: m.secret})
	if n := len(page2.body["data"].([]any)); n != 3 || page2.body["has_more"] != false {
		t.Fatalf("page 2 %s", page2.raw)
	}
	requireStatus(t, b.do(t, request{method: "GET", path: "/v1/events?type=PAYMENT", auth: m.secret}), http.StatusBadRequest)
	requireStatus(t, b.do(t, request{method: "GET", path: "/v1/events/evt_bogus", auth: m.secret}), http.StatusNotFound)
}

func sep(q string) string {
	if q == "" {
		return "?"
	}
	return "&"
}
