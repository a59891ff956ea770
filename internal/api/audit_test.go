package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// auditList reads the audit log through the admin API.
func (b *testBundle) auditList(t *testing.T, query string) []map[string]any {
	t.Helper()
	r := b.do(t, request{method: "GET", path: "/admin/v1/audit_events?" + query, auth: testAdminToken})
	requireStatus(t, r, http.StatusOK)
	var out []map[string]any
	for _, e := range r.body["data"].([]any) {
		out = append(out, e.(map[string]any))
	}
	return out
}

func TestAuditLog(t *testing.T) {
	t.Parallel()
	b := setupPayments(t)
	const card = "5365101234567890"
	reg := b.startRegistration(t, map[string]any{"pg": "payco"})
	if code := b.completeWindow(t, reg, card); code != http.StatusOK {
		t.Fatalf("window answered %d", code)
	}
	keyID := reg.str("id")
	requireStatus(t, b.do(t, request{method: "POST", path: "/v1/billing_keys/" + keyID + "/confirm", auth: b.m.secret}), http.StatusOK)
	p := b.charge(t, "pay-1", map[string]any{"billing_key_id": keyID, "amount": 10000, "order_name": "x"})
	requireStatus(t, p, http.StatusCreated)
	refund := b.do(t, request{method: "POST", path: "/v1/payments/" + p.str("id") + "/cancel", auth: b.m.secret,
		body:   map[string]any{"amount": 4000, "reason": "one returned"},
		header: map[string]string{"Idempotency-Key": "refund-1", "X-Request-Id": "req-refund-1"}})
	requireStatus(t, refund, http.StatusCreated)

	rows := b.auditList(t, "limit=100&merchant_id="+b.m.id)
	var actions []string
	for _, e := range rows {
		actions = append(actions, e["action"].(string))
	}
	for _, want := range []string{"merchant.created", "api_key.created", "provider_account.created", "customer.created",
		"billing_key.created", "billing_key.activated", "payment.paid", "refund.succeeded", "payment.refunded"} {
		if !slices.Contains(actions, want) {
			t.Errorf("no %s in the audit log: %v", want, actions)
		}
	}

	t.Run("ActorSourceAndRequest", func(t *testing.T) {
		refunds := b.auditList(t, "action=refund.succeeded&object_id="+refund.str("id"))
		if len(refunds) != 1 {
			t.Fatalf("refund rows %v", refunds)
		}
		e := refunds[0]
		if e["actor_type"] != "api_key" || !strings.HasPrefix(e["actor_id"].(string), "key_") ||
			e["source_ip"] != "127.0.0.1" || e["request_id"] != "req-refund-1" || e["mode"] != "test" {
			t.Fatalf("refund audit row %v", e)
		}
		if s := e["summary"].(map[string]any); s["amount"] != float64(4000) || s["payment_id"] != p.str("id") {
			t.Fatalf("refund summary %v", s)
		}
		created := b.auditList(t, "action=merchant.created&object_id="+b.m.id)
		if len(created) != 1 || created[0]["actor_type"] != "admin_token" || created[0]["actor_id"] != "admin" {
			t.Fatalf("merchant creation rows %v", created)
		}
		byActor := b.auditList(t, "limit=100&actor_id="+e["actor_id"].(string))
		if len(byActor) < 4 {
			t.Fatalf("only %d rows by the API key", len(byActor))
		}
	})

	t.Run("UserTokensAndTestClock", func(t *testing.T) {
		b.newBootpayAccount(t, b.m, map[string]any{"default_pg": "nicepay", "client_application_id": "js-app-id"})
		cus := b.newCustomer(t, b.m, fullCustomer)
		token := b.userToken(t, b.m.secret, cus, nil)
		requireStatus(t, token, http.StatusCreated)
		b.advanceTo(t, time.Now().Add(time.Hour))
		issued := b.auditList(t, "action=bootpay_user_token.issued&object_id="+cus)
		if len(issued) != 1 || issued[0]["actor_type"] != "api_key" {
			t.Fatalf("user token rows %v", issued)
		}
		if raw, _ := json.Marshal(issued); strings.Contains(string(raw), token.str("user_token")) {
			t.Fatalf("the audit log holds the user token: %s", raw)
		}
		advanced := b.auditList(t, "action=test_clock.advanced&merchant_id="+b.m.id)
		if len(advanced) != 1 || advanced[0]["summary"].(map[string]any)["test_time"] == nil {
			t.Fatalf("test clock rows %v", advanced)
		}
	})

	t.Run("NoSecretsCardsOrIdentities", func(t *testing.T) {
		raw, _ := json.Marshal(rows)
		for _, secret := range []string{card, card[len(card)-4:] + "\"", b.m.secret, b.m.publishable, "sandbox-secret-" + b.impKey,
			"홍길동", "01012345678", "hong@example.com", testAdminToken} {
			if strings.Contains(string(raw), secret) {
				t.Errorf("the audit log holds %q", secret)
			}
		}
		for _, e := range rows {
			if _, ok := e["summary"].(map[string]any)["card_number"]; ok {
				t.Errorf("a summary keeps a card number: %v", e)
			}
		}
	})

	t.Run("PagesAndBadFilters", func(t *testing.T) {
		first := b.do(t, request{method: "GET", path: "/admin/v1/audit_events?limit=2&merchant_id=" + b.m.id, auth: testAdminToken})
		requireStatus(t, first, http.StatusOK)
		data := first.body["data"].([]any)
		if len(data) != 2 || first.body["has_more"] != true {
			t.Fatalf("first page %s", first.raw)
		}
		next := b.auditList(t, "limit=2&merchant_id="+b.m.id+"&starting_after="+data[1].(map[string]any)["id"].(string))
		if len(next) != 2 || next[0]["id"] == data[1].(map[string]any)["id"] {
			t.Fatalf("second page %v", next)
		}
		for _, q := range []string{"created_after=yesterday", "starting_after=pay_1", "color=red"} {
			requireStatus(t, b.do(t, request{method: "GET", path: "/admin/v1/audit_events?" + q, auth: testAdminToken}), http.StatusBadRequest)
		}
		requireStatus(t, b.do(t, request{method: "GET", path: "/admin/v1/audit_events", auth: b.m.secret}), http.StatusUnauthorized)
	})
}
