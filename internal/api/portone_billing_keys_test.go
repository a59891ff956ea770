package api

import (
	"net/http"
	"testing"
)

func TestPortoneBillingKeys(t *testing.T) {
	t.Parallel()

	t.Run("WindowParamsAreTheSDKsAndConfirmActivates", func(t *testing.T) {
		t.Parallel()
		b := setupPortone(t)
		reg := b.register(t, b.customer)
		p := reg.body["client_params"].(map[string]any)
		c, _ := p["customer"].(map[string]any)
		urls, _ := p["noticeUrls"].([]any)
		if p["storeId"] != b.storeID || p["channelKey"] != b.channel || p["billingKeyMethod"] != "CARD" ||
			p["issueId"] != reg.str("id") || p["issueName"] == "" || c["customerId"] != b.customer || c["fullName"] != "홍길동" ||
			c["phoneNumber"] != "01012345678" || c["email"] != "hong@example.com" ||
			len(urls) != 1 || urls[0] != b.url+"/webhooks/portone/"+b.accountID {
			t.Fatalf("client_params %v", p)
		}
		key := b.window(t, reg)
		missing := b.do(t, request{method: "POST", path: "/v1/billing_keys/" + reg.str("id") + "/confirm", auth: b.m.secret})
		requireStatus(t, missing, http.StatusBadRequest)
		r := b.do(t, request{method: "POST", path: "/v1/billing_keys/" + reg.str("id") + "/confirm", auth: b.m.publishable,
			body: map[string]any{"client_secret": reg.str("client_secret"), "billing_key": key}})
		requireStatus(t, r, http.StatusOK)
		if r.str("status") != "active" || r.str("provider") != "portone" || r.str("pg") != b.channel {
			t.Fatalf("confirmed %s", r.raw)
		}
		stored := mustKey(t, b.payBundle, r.str("id"))
		if stored.ProviderKey != key {
			t.Fatalf("provider key %q, want the window's %q", stored.ProviderKey, key)
		}
	})

	t.Run("EasyPayAndAnotherChannel", func(t *testing.T) {
		t.Parallel()
		b := setupPortone(t)
		reg := b.startRegistration(t, map[string]any{"provider": "portone", "method": "EASY_PAY", "channel_key": "channel-key-kakao"})
		p := reg.body["client_params"].(map[string]any)
		if p["billingKeyMethod"] != "EASY_PAY" || p["channelKey"] != "channel-key-kakao" {
			t.Fatalf("client_params %v", p)
		}
		bad := b.do(t, request{method: "POST", path: "/v1/billing_keys", auth: b.m.secret,
			body: map[string]any{"provider": "portone", "customer_id": b.customer, "method": "MOBILE"}})
		requireStatus(t, bad, http.StatusBadRequest)
	})

	t.Run("AForeignBillingKeyIsRefusedAndNeverAttached", func(t *testing.T) {
		t.Parallel()
		b := setupPortone(t)
		other := b.newCustomer(t, "user-2")
		mine := b.register(t, b.customer)
		theirs := b.register(t, other)
		theirKey := b.window(t, theirs)
		r := b.confirm(t, mine.str("id"), theirKey)
		requireStatus(t, r, http.StatusConflict)
		if r.errorField("code") != "billing_key_foreign" {
			t.Fatalf("refusal %s", r.raw)
		}
		if k := mustKey(t, b.payBundle, mine.str("id")); k.Status != "pending" || k.ProviderKey != "" {
			t.Fatalf("after the refusal the registration is %s with key %q", k.Status, k.ProviderKey)
		}
		// The right key still completes the registration.
		requireStatus(t, b.confirm(t, mine.str("id"), b.window(t, mine)), http.StatusOK)
	})

	t.Run("RESTIssueAndDelete", func(t *testing.T) {
		t.Parallel()
		b := setupPortone(t)
		card := map[string]any{"number": "4111-1111-1111-1111", "expiry": "2031-06", "birth": "880101", "pwd_2digit": "00"}
		r := b.do(t, request{method: "POST", path: "/v1/billing_keys", auth: b.m.secret,
			body: map[string]any{"provider": "portone", "customer_id": b.customer, "card": card}})
		requireStatus(t, r, http.StatusCreated)
		if r.str("status") != "active" || r.str("method") != "rest" {
			t.Fatalf("issued %s", r.raw)
		}
		if logs := b.logs.String(); contains(logs, "4111111111111111") || contains(logs, "880101") {
			t.Fatal("card data in the logs")
		}
		refused := b.do(t, request{method: "POST", path: "/v1/billing_keys", auth: b.m.secret,
			body: map[string]any{"provider": "portone", "customer_id": b.customer, "card": map[string]any{
				"number": "4111111111110000", "expiry": "2031-06", "birth": "880101"}}})
		if refused.status < 400 || refused.status == http.StatusInternalServerError {
			t.Fatalf("a refused card: %d %s", refused.status, refused.raw)
		}
		key := mustKey(t, b.payBundle, r.str("id")).ProviderKey
		d := b.do(t, request{method: "DELETE", path: "/v1/billing_keys/" + r.str("id"), auth: b.m.secret})
		requireStatus(t, d, http.StatusOK)
		if d.str("status") != "deleted" {
			t.Fatalf("deleted %s", d.raw)
		}
		client, _ := b.gateways.Portone(mustAccount(t, b.payBundle))
		if _, err := client.VerifyBillingKey(t.Context(), verifyReq(key)); err == nil {
			t.Fatal("the PG still has the deleted key issued")
		}
		// A pending registration has no PortOne key yet: deleting it asks nothing.
		pending := b.register(t, b.customer)
		requireStatus(t, b.do(t, request{method: "DELETE", path: "/v1/billing_keys/" + pending.str("id"), auth: b.m.secret}), http.StatusOK)
	})
}
