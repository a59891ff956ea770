package api

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func TestAdmin(t *testing.T) {
	t.Parallel()

	t.Run("NeedsTheAdminToken", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m := b.newMerchant(t)
		for _, token := range []string{"", "wrong", m.secret} {
			r := b.do(t, request{method: "POST", path: "/admin/v1/merchants", auth: token, body: map[string]any{"name": "x"}})
			requireStatus(t, r, http.StatusUnauthorized)
		}
	})

	t.Run("KeysShownOnceAndShaped", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m := b.newMerchant(t)
		shape := regexp.MustCompile(`^(sk|pk)_(test|live)_[0-9a-z]{32}$`)
		for _, key := range []string{m.secret, m.publishable, b.newKey(t, m.id, "secret", "live"), b.newKey(t, m.id, "publishable", "live")} {
			if !shape.MatchString(key) {
				t.Fatalf("key %q has the wrong shape", key)
			}
		}
		if !strings.HasPrefix(m.secret, "sk_test_") || !strings.HasPrefix(m.publishable, "pk_test_") {
			t.Fatalf("keys %q %q", m.secret, m.publishable)
		}
		list := b.do(t, request{method: "GET", path: "/admin/v1/merchants/" + m.id + "/keys", auth: testAdminToken})
		requireStatus(t, list, http.StatusOK)
		if strings.Contains(string(list.raw), m.secret) || len(list.body["data"].([]any)) != 4 {
			t.Fatalf("key list %s", list.raw)
		}
	})

	t.Run("BadInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m := b.newMerchant(t)
		tests := []struct {
			path string
			body map[string]any
			want int
		}{
			{"/admin/v1/merchants", map[string]any{"name": ""}, http.StatusBadRequest},
			{"/admin/v1/merchants", map[string]any{}, http.StatusBadRequest},
			{"/admin/v1/merchants/" + m.id + "/keys", map[string]any{"kind": "root", "mode": "test"}, http.StatusBadRequest},
			{"/admin/v1/merchants/" + m.id + "/keys", map[string]any{"kind": "secret", "mode": "prod"}, http.StatusBadRequest},
			{"/admin/v1/merchants/mer_00000000000000000000000000/keys", map[string]any{"kind": "secret", "mode": "test"}, http.StatusNotFound},
			{"/admin/v1/merchants/nonsense/keys", map[string]any{"kind": "secret", "mode": "test"}, http.StatusNotFound},
		}
		for _, tt := range tests {
			r := b.do(t, request{method: "POST", path: tt.path, auth: testAdminToken, body: tt.body})
			requireStatus(t, r, tt.want)
		}
		requireStatus(t, b.do(t, request{method: "DELETE", path: "/admin/v1/keys/key_00000000000000000000000000", auth: testAdminToken}), http.StatusNotFound)
	})

	t.Run("ProviderAccounts", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m := b.newMerchant(t)
		path := "/admin/v1/merchants/" + m.id + "/provider_accounts"
		const secret = "imp_secret_value_that_must_not_leak_0123456789"
		created := b.do(t, request{method: "POST", path: path, auth: testAdminToken, body: map[string]any{
			"provider": "iamport", "mode": "test",
			"credentials": map[string]any{"imp_key": "1234567890123456", "imp_secret": secret},
			"settings":    map[string]any{"imp_code": "imp12345678", "default_pg": "nice", "webhook_allowed_ips": []any{"52.78.100.19", "10.0.0.0/8"}},
		}})
		requireStatus(t, created, http.StatusCreated)
		id := created.str("id")
		if created.str("webhook_url") != b.url+"/webhooks/iamport/"+id {
			t.Fatalf("webhook_url %q", created.str("webhook_url"))
		}
		if strings.Contains(string(created.raw), secret) || strings.Contains(string(created.raw), "1234567890123456") {
			t.Fatalf("credentials leak in %s", created.raw)
		}

		dup := b.do(t, request{method: "POST", path: path, auth: testAdminToken, body: map[string]any{
			"provider": "iamport", "mode": "test", "credentials": map[string]any{"imp_key": "k", "imp_secret": "s"}}})
		requireStatus(t, dup, http.StatusConflict)

		// The credentials really are sealed, and open again.
		acct, err := b.store.GetProviderAccount(t.Context(), id)
		if err != nil || acct.Credentials["imp_secret"] != secret {
			t.Fatalf("stored account %v, %v", acct, err)
		}
		var sealed []byte
		if err := b.store.Pool().QueryRow(t.Context(), `SELECT credentials_sealed FROM provider_accounts WHERE id = $1`, id).Scan(&sealed); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(sealed), secret) {
			t.Fatal("credentials are stored in the clear")
		}

		updated := b.do(t, request{method: "PATCH", path: "/admin/v1/provider_accounts/" + id, auth: testAdminToken, body: map[string]any{
			"credentials": map[string]any{"imp_key": "k2", "imp_secret": "rotated-secret"}, "base_url": "https://staging.example.com"}})
		requireStatus(t, updated, http.StatusOK)
		if updated.str("base_url") != "https://staging.example.com" {
			t.Fatalf("updated %s", updated.raw)
		}
		if acct, _ := b.store.GetProviderAccount(t.Context(), id); acct.Credentials["imp_secret"] != "rotated-secret" {
			t.Fatal("credentials were not rotated")
		}

		list := b.do(t, request{method: "GET", path: path, auth: testAdminToken})
		requireStatus(t, list, http.StatusOK)
		if len(list.body["data"].([]any)) != 1 {
			t.Fatalf("list %s", list.raw)
		}
		requireStatus(t, b.do(t, request{method: "DELETE", path: "/admin/v1/provider_accounts/" + id, auth: testAdminToken}), http.StatusOK)
		requireStatus(t, b.do(t, request{method: "GET", path: "/admin/v1/provider_accounts/" + id, auth: testAdminToken}), http.StatusNotFound)
	})

	t.Run("ProviderAccountValidation", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m := b.newMerchant(t)
		path := "/admin/v1/merchants/" + m.id + "/provider_accounts"
		creds := map[string]any{"imp_key": "k", "imp_secret": "s"}
		tests := []struct {
			name  string
			body  map[string]any
			param string
		}{
			{"UnknownProvider", map[string]any{"provider": "toss", "mode": "test", "credentials": creds}, "provider"},
			{"BadMode", map[string]any{"provider": "iamport", "mode": "prod", "credentials": creds}, "mode"},
			{"MissingSecret", map[string]any{"provider": "iamport", "mode": "test", "credentials": map[string]any{"imp_key": "k"}}, "credentials.imp_secret"},
			{"WrongCredentials", map[string]any{"provider": "bootpay", "mode": "test", "credentials": creds}, "credentials.application_id"},
			{"LiveNeedsHTTPS", map[string]any{"provider": "iamport", "mode": "live", "credentials": creds, "base_url": "http://pg.example.com"}, "base_url"},
			{"UnknownSetting", map[string]any{"provider": "iamport", "mode": "test", "credentials": creds, "settings": map[string]any{"colour": "red"}}, "settings.colour"},
			{"BadIPs", map[string]any{"provider": "iamport", "mode": "test", "credentials": creds, "settings": map[string]any{"webhook_allowed_ips": []any{"not-an-ip"}}}, "settings.webhook_allowed_ips"},
			{"BadAPIVersion", map[string]any{"provider": "bootpay", "mode": "test", "credentials": map[string]any{"application_id": "a", "private_key": "p"}, "settings": map[string]any{"api_version": "v3"}}, "settings.api_version"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := b.do(t, request{method: "POST", path: path, auth: testAdminToken, body: tt.body})
				requireStatus(t, r, http.StatusBadRequest)
				if r.errorField("param") != tt.param {
					t.Fatalf("param %q, want %q: %s", r.errorField("param"), tt.param, r.raw)
				}
			})
		}
	})
}
