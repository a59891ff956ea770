package api

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/billingd/billingd/internal/metrics"
	"github.com/billingd/billingd/internal/store"
	"github.com/billingd/billingd/internal/webhooks"
)

// testSchedule keeps the default's length (so MaxAttempts matches River's
// insert options) in milliseconds.
var testSchedule = webhooks.Schedule{50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond,
	50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond, 50 * time.Millisecond}

// testDeliverer delivers to loopback receivers (the guard is lifted, as
// BILLINGD_WEBHOOK_ALLOW_PRIVATE does) on the test schedule.
func testDeliverer(st *store.Store, m *metrics.Metrics, o bundleOpts, log zerolog.Logger) *webhooks.Deliverer {
	guard := webhooks.Guard{AllowPrivate: true}
	client := o.webhookClient
	if client == nil {
		client = webhooks.NewClient(guard, nil)
	}
	return webhooks.New(webhooks.Options{Store: st, Client: client, Guard: guard, Schedule: testSchedule, Metrics: m, Logger: log})
}

// createEndpoint posts a webhook endpoint.
func (b *testBundle) createEndpoint(t testing.TB, auth string, body map[string]any) response {
	t.Helper()
	return b.do(t, request{method: "POST", path: "/v1/webhook_endpoints", auth: auth, body: body})
}

func TestWebhookEndpoints(t *testing.T) {
	t.Parallel()

	t.Run("Lifecycle", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m := b.newMerchant(t)
		created := b.createEndpoint(t, m.secret, map[string]any{"url": "https://shop.example.com/hooks?token=abc",
			"enabled_events": []string{"payment.paid", "refund.*", "payment.paid"}, "description": "orders"})
		requireStatus(t, created, http.StatusCreated)
		id, secret := created.str("id"), created.str("secret")
		if !strings.HasPrefix(secret, "whsec_") || created.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("create %s / %v", created.raw, created.header)
		}
		if events := created.body["enabled_events"].([]any); len(events) != 2 {
			t.Fatalf("enabled_events not deduplicated: %v", events)
		}
		got := b.do(t, request{method: "GET", path: "/v1/webhook_endpoints/" + id, auth: m.secret})
		requireStatus(t, got, http.StatusOK)
		if _, shown := got.body["secret"]; shown || bytes.Contains(got.raw, []byte(secret)) {
			t.Fatalf("GET shows the secret: %s", got.raw)
		}
		list := b.do(t, request{method: "GET", path: "/v1/webhook_endpoints", auth: m.secret})
		requireStatus(t, list, http.StatusOK)
		if data := list.body["data"].([]any); len(data) != 1 || bytes.Contains(list.raw, []byte(secret)) {
			t.Fatalf("list %s", list.raw)
		}

		patched := b.do(t, request{method: "PATCH", path: "/v1/webhook_endpoints/" + id, auth: m.secret,
			body: map[string]any{"enabled_events": []string{"*"}, "description": nil, "status": "disabled"}})
		requireStatus(t, patched, http.StatusOK)
		if patched.str("status") != "disabled" || patched.body["description"] != nil || patched.str("disabled_reason") == "" {
			t.Fatalf("patch %s", patched.raw)
		}
		enabled := b.do(t, request{method: "PATCH", path: "/v1/webhook_endpoints/" + id, auth: m.secret, body: map[string]any{"status": "enabled"}})
		if enabled.str("status") != "enabled" || enabled.body["disabled_reason"] != nil {
			t.Fatalf("re-enable %s", enabled.raw)
		}

		deleted := b.do(t, request{method: "DELETE", path: "/v1/webhook_endpoints/" + id, auth: m.secret})
		requireStatus(t, deleted, http.StatusOK)
		requireStatus(t, b.do(t, request{method: "GET", path: "/v1/webhook_endpoints/" + id, auth: m.secret}), http.StatusNotFound)

		// The secret is a credential: never logged, never stored in clear.
		if strings.Contains(b.logs.String(), strings.TrimPrefix(secret, "whsec_")) {
			t.Fatal("the signing secret is in the logs")
		}
		var clear int
		if err := b.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM webhook_endpoints
			WHERE position($1::bytea IN secret_sealed) > 0`, []byte(secret)).Scan(&clear); err != nil || clear != 0 {
			t.Fatalf("secret stored in clear (%d, %v)", clear, err)
		}
	})

	t.Run("CreateRefusesBadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m := b.newMerchant(t)
		live := b.newKey(t, m.id, "secret", "live")
		for _, tc := range []struct {
			name, auth string
			body       map[string]any
			param      string
		}{
			{"NoURL", m.secret, map[string]any{"enabled_events": []string{"*"}}, "url"},
			{"NotHTTP", m.secret, map[string]any{"url": "ftp://shop.example.com/x", "enabled_events": []string{"*"}}, "url"},
			{"Relative", m.secret, map[string]any{"url": "/hooks", "enabled_events": []string{"*"}}, "url"},
			{"Credentials", m.secret, map[string]any{"url": "https://user:pw@shop.example.com/x", "enabled_events": []string{"*"}}, "url"},
			{"LiveNeedsHTTPS", live, map[string]any{"url": "http://shop.example.com/x", "enabled_events": []string{"*"}}, "url"},
			{"NoEvents", m.secret, map[string]any{"url": "https://shop.example.com/x"}, "enabled_events"},
			{"EmptyEvents", m.secret, map[string]any{"url": "https://shop.example.com/x", "enabled_events": []string{}}, "enabled_events"},
			{"UnknownEvent", m.secret, map[string]any{"url": "https://shop.example.com/x", "enabled_events": []string{"payment.payed"}}, "enabled_events"},
			{"UnknownObject", m.secret, map[string]any{"url": "https://shop.example.com/x", "enabled_events": []string{"invoice.*"}}, "enabled_events"},
			{"StatusOnCreate", m.secret, map[string]any{"url": "https://shop.example.com/x", "enabled_events": []string{"*"}, "status": "enabled"}, "status"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := b.createEndpoint(t, tc.auth, tc.body)
				requireStatus(t, r, http.StatusBadRequest)
				if r.errorField("param") != tc.param {
					t.Fatalf("param %q, want %q: %s", r.errorField("param"), tc.param, r.raw)
				}
			})
		}
		list := b.do(t, request{method: "GET", path: "/v1/webhook_endpoints", auth: m.secret})
		if data := list.body["data"].([]any); len(data) != 0 {
			t.Fatalf("refused input left endpoints behind: %s", list.raw)
		}
		// Live mode with https is fine.
		requireStatus(t, b.createEndpoint(t, live, map[string]any{"url": "https://shop.example.com/x", "enabled_events": []string{"*"}}), http.StatusCreated)
	})

	t.Run("ScopedAndSecretKeyOnly", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m, other := b.newMerchant(t), b.newMerchant(t)
		id := b.createEndpoint(t, m.secret, map[string]any{"url": "https://shop.example.com/x", "enabled_events": []string{"*"}}).str("id")
		requireStatus(t, b.do(t, request{method: "GET", path: "/v1/webhook_endpoints/" + id, auth: other.secret}), http.StatusNotFound)
		requireStatus(t, b.do(t, request{method: "DELETE", path: "/v1/webhook_endpoints/" + id, auth: other.secret}), http.StatusNotFound)
		requireStatus(t, b.do(t, request{method: "POST", path: "/v1/webhook_endpoints/" + id + "/rotate_secret", auth: other.secret}), http.StatusNotFound)
		requireStatus(t, b.createEndpoint(t, m.publishable, map[string]any{"url": "https://shop.example.com/x", "enabled_events": []string{"*"}}), http.StatusForbidden)
		requireStatus(t, b.do(t, request{method: "GET", path: "/v1/events", auth: m.publishable}), http.StatusForbidden)
	})

	t.Run("CreateStoresNoReplay", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m := b.newMerchant(t)
		r := b.do(t, request{method: "POST", path: "/v1/webhook_endpoints", auth: m.secret, header: map[string]string{"Idempotency-Key": "we-1"},
			body: map[string]any{"url": "https://shop.example.com/x", "enabled_events": []string{"*"}}})
		requireStatus(t, r, http.StatusCreated)
		var n int
		if err := b.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM idempotency_keys`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("a response carrying the secret was stored for replay (%d, %v)", n, err)
		}
	})

	t.Run("Rotate", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m := b.newMerchant(t)
		created := b.createEndpoint(t, m.secret, map[string]any{"url": "https://shop.example.com/x", "enabled_events": []string{"*"}})
		id := created.str("id")
		rotated := b.do(t, request{method: "POST", path: "/v1/webhook_endpoints/" + id + "/rotate_secret", auth: m.secret})
		requireStatus(t, rotated, http.StatusOK)
		if rotated.str("secret") == created.str("secret") || !strings.HasPrefix(rotated.str("secret"), "whsec_") {
			t.Fatalf("rotate %s", rotated.raw)
		}
		until, err := time.Parse(time.RFC3339, rotated.str("previous_secret_expires_at"))
		if err != nil || until.Sub(time.Now()) < 23*time.Hour || until.Sub(time.Now()) > 25*time.Hour {
			t.Fatalf("the old secret should stay valid a day: %s", rotated.raw)
		}
		ep, err := b.store.GetWebhookEndpoint(t.Context(), m.id, "test", id)
		if err != nil || len(ep.SigningSecrets(time.Now())) != 2 {
			t.Fatalf("signing secrets after rotation: %v, %v", len(ep.SigningSecrets(time.Now())), err)
		}
		// Rotating again keeps both earlier secrets; 0 ends them all.
		b.do(t, request{method: "POST", path: "/v1/webhook_endpoints/" + id + "/rotate_secret", auth: m.secret, body: map[string]any{"expire_old_after_seconds": 60}})
		if ep, _ := b.store.GetWebhookEndpoint(t.Context(), m.id, "test", id); len(ep.SigningSecrets(time.Now())) != 3 {
			t.Fatalf("second rotation dropped a secret: %d", len(ep.SigningSecrets(time.Now())))
		}
		ended := b.do(t, request{method: "POST", path: "/v1/webhook_endpoints/" + id + "/rotate_secret", auth: m.secret, body: map[string]any{"expire_old_after_seconds": 0}})
		requireStatus(t, ended, http.StatusOK)
		if ended.body["previous_secret_expires_at"] != nil {
			t.Fatalf("expire_old_after_seconds 0 kept old secrets: %s", ended.raw)
		}
		bad := b.do(t, request{method: "POST", path: "/v1/webhook_endpoints/" + id + "/rotate_secret", auth: m.secret, body: map[string]any{"expire_old_after_seconds": 8 * 86400}})
		requireStatus(t, bad, http.StatusBadRequest)
	})

	t.Run("Limit", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m := b.newMerchant(t)
		for i := range 16 {
			r := b.createEndpoint(t, m.secret, map[string]any{"url": "https://shop.example.com/" + string(rune('a'+i)), "enabled_events": []string{"*"}})
			requireStatus(t, r, http.StatusCreated)
		}
		r := b.createEndpoint(t, m.secret, map[string]any{"url": "https://shop.example.com/q", "enabled_events": []string{"*"}})
		requireStatus(t, r, http.StatusConflict)
	})
}

// requireEventually polls cond until it holds or 20 s pass.
func requireEventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
