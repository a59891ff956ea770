package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

// TestMalformedInputIsAClientError sends what careless or hostile clients
// send: every case must be a 4xx with the error envelope, never a 5xx, and
// must change nothing.
func TestMalformedInputIsAClientError(t *testing.T) {
	t.Parallel()
	b := setupWith(t, bundleOpts{maxBodyBytes: 2048})
	m := b.newMerchant(t)
	tests := []struct {
		name        string
		method      string
		body        any
		contentType string
		want        int
		wantType    string
	}{
		{"SyntaxError", "POST", `{"name": "x"`, "", 400, "invalid_request"},
		{"NotAnObject", "POST", `["x"]`, "", 400, "invalid_request"},
		{"TwoObjects", "POST", `{} {}`, "", 400, "invalid_request"},
		{"WrongType", "POST", `{"metadata": "x"}`, "", 400, "invalid_request"},
		{"NullByte", "POST", "{\"name\": \"a\u0000b\"}", "", 400, "invalid_request"},
		{"TextPlain", "POST", `{"name":"x"}`, "text/plain", 415, "unsupported_media_type"},
		{"FormBody", "POST", `name=x`, "application/x-www-form-urlencoded", 415, "unsupported_media_type"},
		{"TooLarge", "POST", `{"name":"` + strings.Repeat("x", 4096) + `"}`, "", 413, "request_too_large"},
		{"MethodNotAllowed", "PUT", `{}`, "", 405, "method_not_allowed"},
		{"InvalidUTF8", "POST", "{\"name\": \"\xff\xfe\"}", "", 400, "invalid_request"},
		{"HugeNumber", "POST", `{"metadata": {"n": 1e999}}`, "", 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.do(t, request{method: tt.method, path: "/v1/customers", auth: m.secret, body: tt.body, contentType: tt.contentType})
			if r.status != tt.want || r.errorType() != tt.wantType || r.errorField("request_id") == "" {
				t.Fatalf("got %d %s, want %d %s", r.status, r.raw, tt.want, tt.wantType)
			}
		})
	}
	requireStatus(t, b.do(t, request{method: "GET", path: "/v1/nothing", auth: m.secret}), http.StatusNotFound)
	list := b.do(t, request{method: "GET", path: "/v1/customers", auth: m.secret})
	if n := len(list.body["data"].([]any)); n != 0 {
		t.Fatalf("malformed requests created %d customers", n)
	}
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	b := setup(t)
	echoed := b.do(t, request{method: "GET", path: "/healthz", header: map[string]string{"X-Request-Id": "trace-42.a_b:c"}})
	if echoed.header.Get("X-Request-Id") != "trace-42.a_b:c" {
		t.Fatalf("X-Request-Id %q not echoed", echoed.header.Get("X-Request-Id"))
	}
	for _, bad := range []string{"has space", strings.Repeat("x", 129), "quote\"d"} {
		r := b.do(t, request{method: "GET", path: "/healthz", header: map[string]string{"X-Request-Id": bad}})
		if got := r.header.Get("X-Request-Id"); got == bad || !strings.HasPrefix(got, "req_") {
			t.Fatalf("unsafe request id %q was used (%q)", bad, got)
		}
	}
	r := b.do(t, request{method: "GET", path: "/v1/customers", header: map[string]string{"X-Request-Id": "abc-123"}})
	if r.errorField("request_id") != "abc-123" {
		t.Fatalf("error body request_id %q", r.errorField("request_id"))
	}
	if !strings.Contains(b.logs.String(), `"request_id":"abc-123"`) {
		t.Fatal("log lines do not carry the request id")
	}
}

func TestPanicIsA500AndTheServerSurvives(t *testing.T) {
	t.Parallel()
	b := setupWith(t, bundleOpts{mount: func(r chi.Router) {
		r.Get("/sandbox/boom", func(http.ResponseWriter, *http.Request) { panic("kaboom") })
	}})
	r := b.do(t, request{method: "GET", path: "/sandbox/boom", header: map[string]string{"X-Request-Id": "panic-1"}})
	requireStatus(t, r, http.StatusInternalServerError)
	if r.errorType() != "internal_error" || r.errorField("request_id") != "panic-1" || strings.Contains(string(r.raw), "kaboom") {
		t.Fatalf("panic response %s", r.raw)
	}
	if !strings.Contains(b.logs.String(), "kaboom") {
		t.Fatal("the panic was not logged")
	}
	requireStatus(t, b.do(t, request{method: "GET", path: "/healthz"}), http.StatusOK)
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	b := setupWith(t, bundleOpts{rateLimit: 3})
	m := b.newMerchant(t)
	limited := 0
	for range 10 {
		r := b.do(t, request{method: "GET", path: "/v1/customers", auth: m.secret})
		if r.status == http.StatusTooManyRequests {
			limited++
			if r.errorType() != "rate_limited" || r.header.Get("Retry-After") == "" {
				t.Fatalf("429 %s", r.raw)
			}
		}
	}
	if limited == 0 {
		t.Fatal("10 requests in a burst with a limit of 3/s were never limited")
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	b := setup(t)
	requireStatus(t, b.do(t, request{method: "GET", path: "/healthz"}), http.StatusOK)
	ready := b.do(t, request{method: "GET", path: "/readyz"})
	requireStatus(t, ready, http.StatusOK)

	// Roll the schema back: the replica must stop claiming readiness.
	if err := b.store.MigrateDown(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	notReady := b.do(t, request{method: "GET", path: "/readyz"})
	requireStatus(t, notReady, http.StatusServiceUnavailable)
	if notReady.str("reason") != "migrations pending" {
		t.Fatalf("readyz %s", notReady.raw)
	}
}

// TestLogsHoldNoSecrets runs a session touching every sensitive value and
// then searches everything logged for them.
func TestLogsHoldNoSecrets(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := b.newMerchant(t)
	const impSecret = "imp-secret-never-logged-9f8e7d6c5b4a"
	b.do(t, request{method: "POST", path: "/admin/v1/merchants/" + m.id + "/provider_accounts", auth: testAdminToken, body: map[string]any{
		"provider": "iamport", "mode": "test", "credentials": map[string]any{"imp_key": "key-never-logged", "imp_secret": impSecret}}})
	b.do(t, request{method: "POST", path: "/v1/customers", auth: m.secret, body: map[string]any{
		"name": "비밀이름", "email": "secret.person@example.com", "phone": "01098765432"}})
	b.do(t, request{method: "POST", path: "/v1/customers", auth: m.secret, body: `{"broken`})
	b.do(t, request{method: "GET", path: "/v1/customers", auth: m.publishable})
	b.do(t, request{method: "GET", path: "/v1/customers", auth: "sk_test_wrongwrongwrongwrongwrongwrong00"})

	logs := b.logs.String()
	if !strings.Contains(logs, `"route":"/v1/customers"`) {
		t.Fatalf("nothing was logged; the test would prove nothing:\n%s", logs)
	}
	for _, secret := range []string{m.secret, m.publishable, testAdminToken, impSecret, "key-never-logged",
		"비밀이름", "secret.person@example.com", "01098765432", "sk_test_wrongwrong", "Bearer", "Authorization"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q", secret)
		}
	}
}
