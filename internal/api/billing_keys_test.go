package api

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestBillingKeyRegistration(t *testing.T) {
	t.Parallel()

	t.Run("PAYCOClientParams", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		reg := b.startRegistration(t, map[string]any{"pg": "payco", "display_amount": 1000})
		p := reg.body["client_params"].(map[string]any)
		if p["pg"] != "payco" || p["pay_method"] != "card" || p["customer_uid"] != reg.str("customer_uid") ||
			p["amount"] != float64(1000) || p["buyer_name"] != "홍길동" || p["buyer_tel"] != "01012345678" || p["merchant_uid"] != reg.str("id") {
			t.Fatalf("PAYCO client_params %v", p)
		}
		if reg.str("status") != "pending" || !strings.HasPrefix(reg.str("client_secret"), reg.str("id")+"_secret_") {
			t.Fatalf("registration %s", reg.raw)
		}
		if init := reg.body["client_init"].(map[string]any); init["imp_code"] != "imp00000000" {
			t.Fatalf("client_init %v", init)
		}
	})

	t.Run("CHAIClientParamsNeedRedirect", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		r := b.do(t, request{method: "POST", path: "/v1/billing_keys", auth: b.m.secret,
			body: map[string]any{"customer_id": b.customer, "provider": "iamport", "pg": "chai"}})
		requireStatus(t, r, http.StatusBadRequest)
		if r.errorField("param") != "m_redirect_url" {
			t.Fatalf("error %s", r.raw)
		}
		reg := b.startRegistration(t, map[string]any{"pg": "chai", "m_redirect_url": "https://shop.example.com/done"})
		p := reg.body["client_params"].(map[string]any)
		if p["pay_method"] != "trans" || p["m_redirect_url"] != "https://shop.example.com/done" || p["amount"] != float64(0) {
			t.Fatalf("CHAI client_params %v", p)
		}
	})

	t.Run("PGWithMID", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		r := b.do(t, request{method: "PATCH", path: "/admin/v1/provider_accounts/" + b.accountID, auth: testAdminToken,
			body: map[string]any{"settings": map[string]any{"pg_mids": map[string]any{"payco": "MIDPAYCO1"}}}})
		requireStatus(t, r, http.StatusOK)
		reg := b.startRegistration(t, map[string]any{"pg": "payco"})
		if p := reg.body["client_params"].(map[string]any); p["pg"] != "payco.MIDPAYCO1" {
			t.Fatalf("pg %v", p["pg"])
		}
	})

	t.Run("ConfirmThroughTheWindow", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		reg := b.startRegistration(t, map[string]any{"pg": "payco"})
		id := reg.str("id")

		early := b.do(t, request{method: "POST", path: "/v1/billing_keys/" + id + "/confirm", auth: b.m.secret})
		requireStatus(t, early, http.StatusConflict)
		if early.errorField("code") != "billing_key_not_issued" {
			t.Fatalf("confirm before the window: %s", early.raw)
		}
		if code := b.completeWindow(t, reg, ""); code != http.StatusOK {
			t.Fatalf("window %d", code)
		}
		// The frontend confirms with its publishable key and the client secret.
		wrong := b.do(t, request{method: "POST", path: "/v1/billing_keys/" + id + "/confirm", auth: b.m.publishable,
			body: map[string]any{"client_secret": "nope"}})
		requireStatus(t, wrong, http.StatusNotFound)
		ok := b.do(t, request{method: "POST", path: "/v1/billing_keys/" + id + "/confirm", auth: b.m.publishable,
			body: map[string]any{"client_secret": reg.str("client_secret")}, header: map[string]string{"Origin": "https://shop.example.com"}})
		requireStatus(t, ok, http.StatusOK)
		if ok.str("status") != "active" || ok.str("card_name") == "" || !strings.Contains(ok.str("card_number"), "*") || ok.body["is_default"] != true {
			t.Fatalf("confirmed %s", ok.raw)
		}
		if ok.header.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatal("confirm is not callable from a browser")
		}
		again := b.do(t, request{method: "POST", path: "/v1/billing_keys/" + id + "/confirm", auth: b.m.secret})
		requireStatus(t, again, http.StatusOK)
		if got := b.eventTypes(t, id); !slices.Equal(got, []string{"billing_key.activated"}) {
			t.Fatalf("events %v", got)
		}
	})

	t.Run("PreflightNeedsNoKey", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		r := b.do(t, request{method: "OPTIONS", path: "/v1/billing_keys/bk_x/confirm",
			header: map[string]string{"Origin": "https://shop.example.com", "Access-Control-Request-Method": "POST"}})
		requireStatus(t, r, http.StatusNoContent)
		if !strings.Contains(r.header.Get("Access-Control-Allow-Headers"), "Authorization") {
			t.Fatalf("preflight headers %v", r.header)
		}
	})

	t.Run("RefusedCardNeverActivates", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		reg := b.startRegistration(t, map[string]any{"pg": "payco"})
		if code := b.completeWindow(t, reg, "4000-0000-0000-0000"); code != http.StatusPaymentRequired {
			t.Fatalf("window with a refused card answered %d", code)
		}
		r := b.do(t, request{method: "POST", path: "/v1/billing_keys/" + reg.str("id") + "/confirm", auth: b.m.secret})
		requireStatus(t, r, http.StatusConflict)
	})

	t.Run("ExpiredRegistration", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		reg := b.startRegistration(t, map[string]any{"pg": "payco"})
		if _, err := b.store.Pool().Exec(t.Context(), `UPDATE billing_keys SET expires_at = now() - interval '1 minute' WHERE id = $1`, reg.str("id")); err != nil {
			t.Fatal(err)
		}
		b.completeWindow(t, reg, "")
		r := b.do(t, request{method: "POST", path: "/v1/billing_keys/" + reg.str("id") + "/confirm", auth: b.m.secret})
		requireStatus(t, r, http.StatusConflict)
		if r.errorField("code") != "registration_expired" {
			t.Fatalf("error %s", r.raw)
		}
		got := b.do(t, request{method: "GET", path: "/v1/billing_keys/" + reg.str("id"), auth: b.m.secret})
		if got.str("status") != "failed" || got.str("failure_code") != "registration_expired" {
			t.Fatalf("expired key %s", got.raw)
		}
	})

	t.Run("ExpireJob", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		reg := b.startRegistration(t, map[string]any{"pg": "payco"})
		if _, err := b.store.Pool().Exec(t.Context(), `UPDATE billing_keys SET expires_at = now() - interval '1 minute' WHERE id = $1`, reg.str("id")); err != nil {
			t.Fatal(err)
		}
		n, err := b.payments.ExpireRegistrations(t.Context())
		if err != nil || n != 1 {
			t.Fatalf("ExpireRegistrations = %d, %v", n, err)
		}
		if got := b.eventTypes(t, reg.str("id")); !slices.Equal(got, []string{"billing_key.failed"}) {
			t.Fatalf("events %v", got)
		}
	})

	t.Run("RESTIssuance", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		card := map[string]any{"number": "4111-1111-1111-1111", "expiry": "2030-12", "birth": "900101", "pwd_2digit": "12"}
		refused := b.do(t, request{method: "POST", path: "/v1/billing_keys", auth: b.m.secret,
			body: map[string]any{"customer_id": b.customer, "provider": "iamport", "pg": "payco", "card": card}})
		requireStatus(t, refused, http.StatusBadRequest)
		if refused.errorField("param") != "card" {
			t.Fatalf("window-only PG with card data: %s", refused.raw)
		}
		issued := b.do(t, request{method: "POST", path: "/v1/billing_keys", auth: b.m.secret,
			body: map[string]any{"customer_id": b.customer, "provider": "iamport", "pg": "nice", "card": card}})
		requireStatus(t, issued, http.StatusCreated)
		if issued.str("status") != "active" || issued.str("method") != "rest" {
			t.Fatalf("REST issuance %s", issued.raw)
		}
		declined := b.do(t, request{method: "POST", path: "/v1/billing_keys", auth: b.m.secret,
			body: map[string]any{"customer_id": b.customer, "provider": "iamport", "pg": "nice",
				"card": map[string]any{"number": "4111111111110000", "expiry": "2030-12", "birth": "900101"}}})
		if declined.status != http.StatusPaymentRequired && declined.status != http.StatusBadGateway {
			t.Fatalf("refused card: %s", declined.raw)
		}
		// Card data never reaches the logs.
		if logs := b.logs.String(); strings.Contains(logs, "4111") || strings.Contains(logs, "900101") {
			t.Fatal("card data in the logs")
		}
	})

	t.Run("DeleteUpstreamAndDefault", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		first := b.activeKey(t, "payco")
		second := b.activeKey(t, "kakaopay")
		key := b.do(t, request{method: "GET", path: "/v1/billing_keys/" + first, auth: b.m.secret})
		if key.body["is_default"] != true {
			t.Fatalf("the first key is not the default: %s", key.raw)
		}
		requireStatus(t, b.do(t, request{method: "POST", path: "/v1/billing_keys/" + second + "/default", auth: b.m.secret}), http.StatusOK)
		deleted := b.do(t, request{method: "DELETE", path: "/v1/billing_keys/" + second, auth: b.m.secret})
		requireStatus(t, deleted, http.StatusOK)
		if deleted.str("status") != "deleted" {
			t.Fatalf("deleted %s", deleted.raw)
		}
		if _, ok := b.sandbox.Iamport.Customer(b.impKey, deleted.str("customer_uid")); ok {
			t.Fatal("the key still exists at the PG")
		}
		if key := b.do(t, request{method: "GET", path: "/v1/billing_keys/" + first, auth: b.m.secret}); key.body["is_default"] != true {
			t.Fatalf("the remaining key did not become the default: %s", key.raw)
		}
		charge := b.charge(t, "after-delete", map[string]any{"billing_key_id": second, "amount": 1000, "order_name": "x"})
		requireStatus(t, charge, http.StatusBadRequest)
		list := b.do(t, request{method: "GET", path: "/v1/billing_keys?status=active&customer_id=" + b.customer, auth: b.m.secret})
		if data := list.body["data"].([]any); len(data) != 1 {
			t.Fatalf("active keys %s", list.raw)
		}
	})

	t.Run("OtherMerchantSeesNothing", func(t *testing.T) {
		t.Parallel()
		b := setupPayments(t)
		id := b.activeKey(t, "payco")
		other := b.newMerchant(t)
		requireStatus(t, b.do(t, request{method: "GET", path: "/v1/billing_keys/" + id, auth: other.secret}), http.StatusNotFound)
		requireStatus(t, b.do(t, request{method: "DELETE", path: "/v1/billing_keys/" + id, auth: other.secret}), http.StatusNotFound)
		r := b.charge(t, "steal", map[string]any{"billing_key_id": id, "amount": 1000, "order_name": "x"})
		r2 := b.do(t, request{method: "POST", path: "/v1/payments", auth: other.secret,
			body: map[string]any{"billing_key_id": id, "amount": 1000, "order_name": "x"}, header: map[string]string{"Idempotency-Key": "steal"}})
		requireStatus(t, r, http.StatusCreated) // the owner can
		requireStatus(t, r2, http.StatusBadRequest)
	})
	_ = time.Second
}
