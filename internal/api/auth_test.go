package api

import (
	"net/http"
	"testing"
)

func TestAuthentication(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := b.newMerchant(t)

	tests := []struct {
		name   string
		header string
		want   int
	}{
		{"Missing", "", http.StatusUnauthorized},
		{"NotBearer", "Basic " + m.secret, http.StatusUnauthorized},
		{"Garbage", "Bearer hello", http.StatusUnauthorized},
		{"UnknownKey", "Bearer sk_test_00000000000000000000000000000000", http.StatusUnauthorized},
		{"AdminTokenIsNotAnAPIKey", "Bearer " + testAdminToken, http.StatusUnauthorized},
		{"PublishableOnSecretRoute", "Bearer " + m.publishable, http.StatusForbidden},
		{"Secret", "Bearer " + m.secret, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.do(t, request{method: "GET", path: "/v1/customers", header: map[string]string{"Authorization": tt.header}})
			requireStatus(t, r, tt.want)
		})
	}

	t.Run("RevokedKey", func(t *testing.T) {
		key := b.newKey(t, m.id, "secret", "test")
		requireStatus(t, b.do(t, request{method: "GET", path: "/v1/customers", auth: key}), http.StatusOK)
		keys := b.do(t, request{method: "GET", path: "/admin/v1/merchants/" + m.id + "/keys", auth: testAdminToken})
		var keyID string
		for _, k := range keys.body["data"].([]any) {
			k := k.(map[string]any)
			if k["hint"] == key[len(key)-4:] {
				keyID = k["id"].(string)
			}
		}
		requireStatus(t, b.do(t, request{method: "DELETE", path: "/admin/v1/keys/" + keyID, auth: testAdminToken}), http.StatusOK)
		r := b.do(t, request{method: "GET", path: "/v1/customers", auth: key})
		requireStatus(t, r, http.StatusUnauthorized)
		// Other keys of the merchant still work.
		requireStatus(t, b.do(t, request{method: "GET", path: "/v1/customers", auth: m.secret}), http.StatusOK)
	})
}
