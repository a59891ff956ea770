package api

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
)

// A path id that is not text (NUL, invalid UTF-8) on a POST with an
// Idempotency-Key, or a key that is not text, is a client error: it is
// checked before it would reach a text column.
func TestIdsAndKeysThatAreNotTextAreClientErrors(t *testing.T) {
	t.Parallel()
	b := setupPayments(t)
	for _, path := range []string{"/v1/payments/%00/cancel", "/v1/payments/%FF/cancel", "/v1/payments/pay_%C3%28/cancel",
		"/v1/subscriptions/%00/cancel", "/v1/billing_keys/%00/confirm", "/v1/billing_keys/%FE/default",
		"/v1/events/%00/resend"} {
		r := b.do(t, request{method: "POST", path: path, auth: b.m.secret, body: map[string]any{"reason": "x"},
			header: map[string]string{"Idempotency-Key": "k-" + path}})
		if r.status != http.StatusNotFound || r.errorField("request_id") == "" {
			t.Errorf("POST %s: %d %s, want 404", path, r.status, r.raw)
		}
	}
	r := b.do(t, request{method: "POST", path: "/v1/customers", auth: b.m.secret, body: map[string]any{"name": "x"},
		header: map[string]string{"Idempotency-Key": "bad-\xff\xfe"}})
	if r.status != http.StatusBadRequest || r.errorField("param") != "Idempotency-Key" {
		t.Errorf("an Idempotency-Key that is not UTF-8: %d %s, want 400", r.status, r.raw)
	}
	if strings.Contains(b.logs.String(), "internal error") {
		t.Fatal("an internal error was logged")
	}
}

// A query parameter a list does not take is a 400 naming it, not a filter
// silently ignored (which handed back every payment).
func TestUnknownQueryParametersAreRefused(t *testing.T) {
	t.Parallel()
	b := setupPayments(t)
	lists := map[string]string{
		"/v1/payments": "customer_id", "/v1/customers": "email", "/v1/billing_keys": "status",
		"/v1/subscriptions": "status", "/v1/events": "type", "/v1/webhook_endpoints": "limit",
	}
	for list, known := range lists {
		r := b.do(t, request{method: "GET", path: list + "?subscription_id=sub_06h3ej18gdt6q0tkvd72tmxcv8&limit=5", auth: b.m.secret})
		if r.status != http.StatusBadRequest || r.errorField("code") != "parameter_unknown" || r.errorField("param") != "subscription_id" {
			t.Errorf("GET %s?subscription_id=: %d %s, want 400 naming subscription_id", list, r.status, r.raw)
		}
		value := "x"
		if known == "limit" {
			value = "5"
		} else if known == "status" && list == "/v1/billing_keys" {
			value = "active"
		} else if known == "status" {
			value = "active"
		} else if known == "type" {
			value = "payment.paid"
		} else if known == "email" {
			value = "a@example.com"
		} else if known == "customer_id" {
			value = b.customer
		}
		if r := b.do(t, request{method: "GET", path: fmt.Sprintf("%s?%s=%s", list, known, value), auth: b.m.secret}); r.status != http.StatusOK {
			t.Errorf("GET %s?%s=%s: %d %s, want 200", list, known, value, r.status, r.raw)
		}
	}
	for _, path := range []string{"/admin/v1/merchants/" + b.m.id + "/keys?kind=secret", "/admin/v1/merchants/" + b.m.id + "/provider_accounts?mode=test"} {
		if r := b.do(t, request{method: "GET", path: path, auth: testAdminToken}); r.status != http.StatusBadRequest {
			t.Errorf("GET %s: %d %s, want 400", path, r.status, r.raw)
		}
	}
}

// A database that cannot be reached is 503 with Retry-After, never 500,
// and /readyz says so: the database refuses connections and every session
// is terminated (SQLSTATE 57P01), or the pool is closed.
func TestDatabaseDownIs503(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		down func(t *testing.T, b *testBundle)
	}{
		{"Refused", func(t *testing.T, b *testBundle) {
			ctx := t.Context()
			var db string
			if err := b.store.Pool().QueryRow(ctx, `SELECT current_database()`).Scan(&db); err != nil {
				t.Fatal(err)
			}
			// From another database: a database cannot close itself.
			cfg := b.store.Pool().Config().ConnConfig.Copy()
			cfg.Database = "postgres"
			admin, err := pgx.ConnectConfig(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer admin.Close(context.Background())
			if _, err := admin.Exec(ctx, `ALTER DATABASE `+pgx.Identifier{db}.Sanitize()+` WITH ALLOW_CONNECTIONS false`); err != nil {
				t.Fatal(err)
			}
			if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, db); err != nil {
				t.Fatal(err)
			}
		}},
		{"PoolClosed", func(t *testing.T, b *testBundle) { b.store.Pool().Close() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// A remembered API key lets requests past authentication to
			// the database work behind it.
			b := setupWith(t, bundleOpts{noJobs: true, apiKeyCacheTTL: time.Minute})
			m := b.newMerchant(t)
			requireStatus(t, b.do(t, request{method: "GET", path: "/v1/customers", auth: m.secret}), http.StatusOK)
			tc.down(t, b)
			for _, req := range []request{
				{method: "GET", path: "/v1/customers", auth: m.secret},
				{method: "POST", path: "/v1/customers", auth: m.secret, body: map[string]any{"name": "x"}, header: map[string]string{"Idempotency-Key": "down-1"}},
				{method: "POST", path: "/v1/customers", auth: m.secret, body: map[string]any{"name": "x"}},
				{method: "GET", path: "/v1/payments/pay_06h3ej18gdt6q0tkvd72tmxcv8", auth: m.secret},
				{method: "GET", path: "/readyz"},
			} {
				r := b.do(t, req)
				if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
					t.Errorf("%s %s with the database down: %d (Retry-After %q) %s, want 503 with Retry-After",
						req.method, req.path, r.status, r.header.Get("Retry-After"), r.raw)
				}
			}
			if strings.Contains(b.logs.String(), `"internal error"`) {
				t.Error("a database outage was logged as an internal error")
			}
		})
	}
}

// No route answers 5xx to an id that is not text, with or without an
// Idempotency-Key, nor to a NUL in a JSON string or a list's filter.
func TestNoRouteAnswers5xxToTextThatIsNot(t *testing.T) {
	t.Parallel()
	b := setupPayments(t)
	var routes [][2]string
	err := chi.Walk(New(Options{AdminToken: testAdminToken, MaxBodyBytes: 1 << 20}).handler.(chi.Routes),
		func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
			if strings.Contains(route, "{") && !outsideContract(route) && method != http.MethodOptions {
				routes = append(routes, [2]string{method, route})
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range routes {
		for _, bad := range []string{"%00", "%FF", "x%00y"} {
			path := regexp.MustCompile(`\{[a-z_]+\}`).ReplaceAllString(rt[1], bad)
			auth := b.m.secret
			if strings.HasPrefix(path, "/admin/") {
				auth = testAdminToken
			}
			for _, key := range []string{"", "k-" + bad} {
				req := request{method: rt[0], path: path, auth: auth, header: map[string]string{}}
				if rt[0] == http.MethodPost || rt[0] == http.MethodPatch {
					req.body = map[string]any{}
				}
				if key != "" {
					req.header["Idempotency-Key"] = key + rt[0] + rt[1]
				}
				if r := b.do(t, req); r.status >= 500 {
					t.Errorf("%s %s (Idempotency-Key %q): %d %s", rt[0], path, key, r.status, r.raw)
				}
			}
		}
	}
	key := b.activeKey(t, "payco")
	for _, body := range []string{
		`{"name":"a","metadata":{"note":"a\u0000b"}}`,
		`{"name":"a","metadata":{"n\u0000":"b"}}`,
		`{"name":"a\u0000"}`,
	} {
		r := b.do(t, request{method: "POST", path: "/v1/customers", auth: b.m.secret, body: body,
			header: map[string]string{"Idempotency-Key": "nul-" + body}})
		if r.status != http.StatusBadRequest {
			t.Errorf("POST /v1/customers %s: %d %s, want 400", body, r.status, r.raw)
		}
	}
	charge := b.charge(t, "nul-charge", map[string]any{"billing_key_id": key, "amount": 1000, "order_name": "a", "metadata": map[string]any{"x": "\x00"}})
	if charge.status != http.StatusBadRequest || charge.errorField("param") != "metadata.x" {
		t.Errorf("a charge with NUL in metadata: %d %s, want 400 naming metadata.x", charge.status, charge.raw)
	}
	for _, list := range []string{"/v1/payments?customer_id=%00", "/v1/customers?email=%FF", "/v1/events?object_id=a%00",
		"/v1/subscriptions?customer_id=%00", "/v1/billing_keys?customer_id=%FF"} {
		if r := b.do(t, request{method: "GET", path: list, auth: b.m.secret}); r.status != http.StatusBadRequest {
			t.Errorf("GET %s: %d %s, want 400", list, r.status, r.raw)
		}
	}
}
