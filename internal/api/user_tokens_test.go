package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"
)

// bootpayAccount is a merchant's test-mode Bootpay project on the bundle's
// sandbox.
type bootpayAccount struct {
	id, appID, privateKey string
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// newBootpayAccount gives the merchant a test-mode Bootpay account with
// credentials of our choosing, known to the sandbox. settings may be nil.
func (b *testBundle) newBootpayAccount(t testing.TB, m merchantKeys, settings map[string]any) bootpayAccount {
	t.Helper()
	acc := bootpayAccount{appID: randomHex(t, 12), privateKey: "sandbox-key-" + randomHex(t, 16)}
	body := map[string]any{"provider": "bootpay", "mode": "test",
		"credentials": map[string]any{"application_id": acc.appID, "private_key": acc.privateKey}}
	if settings != nil {
		body["settings"] = settings
	}
	r := b.do(t, request{method: "POST", path: "/admin/v1/merchants/" + m.id + "/provider_accounts", auth: testAdminToken, body: body})
	requireStatus(t, r, http.StatusCreated)
	acc.id = r.str("id")
	// billingd registers the project with the sandbox when it first talks
	// to it; the identity window needs it before that.
	b.sandbox.Bootpay.AddAccount(acc.appID, acc.privateKey)
	return acc
}

// newCustomer creates a customer and returns its id.
func (b *testBundle) newCustomer(t testing.TB, m merchantKeys, body map[string]any) string {
	t.Helper()
	r := b.do(t, request{method: "POST", path: "/v1/customers", auth: m.secret, body: body})
	requireStatus(t, r, http.StatusCreated)
	return r.str("id")
}

func (b *testBundle) userToken(t testing.TB, key, customerID string, body any) response {
	t.Helper()
	return b.do(t, request{method: "POST", path: "/v1/customers/" + customerID + "/bootpay_user_token", auth: key, body: body})
}

// requireError fails unless r is an error of the given status, type, code
// and param.
func requireError(t testing.TB, r response, status int, typ, code, param string) {
	t.Helper()
	requireStatus(t, r, status)
	if r.errorType() != typ || r.errorField("code") != code || r.errorField("param") != param {
		t.Fatalf("error %s, want type %q code %q param %q", r.raw, typ, code, param)
	}
}

// countRows counts the rows of a table in the bundle's database.
func (b *testBundle) countRows(t testing.TB, table string) int {
	t.Helper()
	var n int
	if err := b.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

var fullCustomer = map[string]any{"external_id": "member-42", "name": "이서연", "email": "seoyeon@example.com",
	"phone": "010-1111-2222", "birth": "1990-10-04", "gender": "male"}

func TestBootpayUserToken(t *testing.T) {
	t.Parallel()

	for _, version := range []string{"v2", "v1"} {
		t.Run("IssuedThenReused/"+version, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			m := b.newMerchant(t)
			settings := map[string]any{"default_pg": "nicepay", "client_application_id": "js-app-id"}
			if version == "v1" {
				settings["api_version"] = "v1"
			}
			acc := b.newBootpayAccount(t, m, settings)
			cus := b.newCustomer(t, m, fullCustomer)

			first := b.userToken(t, m.secret, cus, nil)
			requireStatus(t, first, http.StatusCreated)
			token := first.str("user_token")
			params, _ := first.body["client_params"].(map[string]any)
			if token == "" || first.str("object") != "bootpay_user_token" || first.str("customer_id") != cus ||
				params["method"] != "easy_card" || params["pg"] != "nicepay" || params["user_token"] != token ||
				params["application_id"] != "js-app-id" || first.header.Get("Cache-Control") != "no-store" {
				t.Fatalf("user token %s", first.raw)
			}
			expires, err := time.Parse(time.RFC3339, first.str("expires_at"))
			if err != nil || time.Until(expires) < 55*time.Minute || time.Until(expires) > 61*time.Minute {
				t.Fatalf("expires_at %q is not about an hour away", first.str("expires_at"))
			}
			// What Bootpay was told: external_id as user_id, gender 1 for
			// male, birth as YYMMDD, phone as digits.
			got, ok := b.sandbox.Bootpay.LookupUserToken(token)
			if !ok || got.ApplicationID != acc.appID || got.UserID != "member-42" || got.Name != "이서연" ||
				got.Email != "seoyeon@example.com" || got.Phone != "01011112222" || got.Birth != "901004" ||
				got.Gender == nil || *got.Gender != 1 {
				t.Fatalf("sandbox recorded %+v", got)
			}

			// Cached: the same token, and no new request to Bootpay (the
			// sandbox mints a fresh random token per request).
			second := b.userToken(t, m.secret, cus, map[string]any{})
			requireStatus(t, second, http.StatusCreated)
			if second.str("user_token") != token {
				t.Fatal("a token with an hour left was not reused")
			}

			// Sealed at rest.
			var sealed []byte
			if err := b.store.Pool().QueryRow(context.Background(),
				`SELECT token_sealed FROM bootpay_user_tokens WHERE customer_id = $1`, cus).Scan(&sealed); err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(sealed, []byte(token)) {
				t.Fatal("the user token is stored in clear")
			}

			// Five minutes or less left: a new token.
			if _, err := b.store.Pool().Exec(context.Background(),
				`UPDATE bootpay_user_tokens SET expires_at = now() + interval '5 minutes' WHERE customer_id = $1`, cus); err != nil {
				t.Fatal(err)
			}
			third := b.userToken(t, m.secret, cus, nil)
			requireStatus(t, third, http.StatusCreated)
			if third.str("user_token") == token {
				t.Fatal("a token with 5 minutes left was handed out again")
			}

			// Changed customer data: a new token carrying it.
			requireStatus(t, b.do(t, request{method: "PATCH", path: "/v1/customers/" + cus, auth: m.secret,
				body: map[string]any{"name": "이서윤", "gender": "female"}}), http.StatusOK)
			fourth := b.userToken(t, m.secret, cus, nil)
			requireStatus(t, fourth, http.StatusCreated)
			got, _ = b.sandbox.Bootpay.LookupUserToken(fourth.str("user_token"))
			if fourth.str("user_token") == third.str("user_token") || got.Name != "이서윤" || got.Gender == nil || *got.Gender != 0 {
				t.Fatalf("after the customer changed: %s, sandbox %+v", fourth.raw, got)
			}
		})
	}

	t.Run("PGChoice", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		tests := []struct {
			name     string
			settings map[string]any
			body     map[string]any
			wantPG   string // "" expects a 400 on pg
		}{
			{"DefaultPG", map[string]any{"default_pg": "welcome"}, nil, "welcome"},
			{"OldSpellingOfPayapp", map[string]any{"default_pg": "nicepay"}, map[string]any{"pg": "paypp"}, "payapp"},
			{"ExplicitOverridesDefault", map[string]any{"default_pg": "nicepay"}, map[string]any{"pg": "PayApp"}, "payapp"},
			{"OldSpellingAsDefault", map[string]any{"default_pg": "paypp"}, nil, "payapp"},
			{"NotAnEasyPG", map[string]any{"default_pg": "nicepay"}, map[string]any{"pg": "kcp"}, ""},
			{"DefaultNotAnEasyPG", map[string]any{"default_pg": "kcp"}, nil, ""},
			{"NoPGAtAll", nil, nil, ""},
			{"EmptyPG", map[string]any{"default_pg": "nicepay"}, map[string]any{"pg": ""}, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				m := b.newMerchant(t)
				b.newBootpayAccount(t, m, tt.settings)
				cus := b.newCustomer(t, m, fullCustomer)
				var body any // a nil map would be sent as null
				if tt.body != nil {
					body = tt.body
				}
				r := b.userToken(t, m.secret, cus, body)
				if tt.wantPG == "" {
					requireError(t, r, http.StatusBadRequest, "invalid_request", "parameter_invalid", "pg")
					return
				}
				requireStatus(t, r, http.StatusCreated)
				if pg := r.body["client_params"].(map[string]any)["pg"]; pg != tt.wantPG {
					t.Fatalf("pg %v, want %s", pg, tt.wantPG)
				}
			})
		}
	})

	t.Run("Refusals", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m, other := b.newMerchant(t), b.newMerchant(t)
		b.newBootpayAccount(t, m, map[string]any{"default_pg": "nicepay"})
		cus := b.newCustomer(t, m, fullCustomer)
		anonymous := b.newCustomer(t, m, map[string]any{"name": "외부아이디없음"})
		noPhone := b.newCustomer(t, m, map[string]any{"external_id": "no-phone"})
		otherCus := b.newCustomer(t, other, fullCustomer) // other has no Bootpay account
		tests := []struct {
			name, key, customer string
			body                any
			status              int
			typ, code, param    string
		}{
			{"NoExternalID", m.secret, anonymous, nil, 400, "invalid_request", "external_id_required", ""},
			{"PayappNeedsPhone", m.secret, noPhone, map[string]any{"pg": "payapp"}, 400, "invalid_request", "customer_phone_required", "pg"},
			{"NoBootpayAccount", other.secret, otherCus, nil, 400, "invalid_request", "provider_not_configured", "provider"},
			{"UnknownCustomer", m.secret, "cus_00000000000000000000000000", nil, 404, "not_found", "resource_missing", ""},
			{"MalformedCustomerID", m.secret, "nope", nil, 404, "not_found", "resource_missing", ""},
			{"AnotherMerchantsCustomer", m.secret, otherCus, nil, 404, "not_found", "resource_missing", ""},
			{"PublishableKey", m.publishable, cus, nil, 403, "permission_error", "secret_key_required", ""},
			{"UnknownField", m.secret, cus, map[string]any{"user_id": "x"}, 400, "invalid_request", "parameter_unknown", "user_id"},
			{"PGWrongType", m.secret, cus, map[string]any{"pg": 7}, 400, "invalid_request", "parameter_invalid", "pg"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				requireError(t, b.userToken(t, tt.key, tt.customer, tt.body), tt.status, tt.typ, tt.code, tt.param)
			})
		}
		if n := b.countRows(t, "bootpay_user_tokens"); n != 0 {
			t.Fatalf("refused requests cached %d tokens", n)
		}
	})

	t.Run("PGRefusesCredentials", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m := b.newMerchant(t)
		// An explicit base_url is not registered with the sandbox: Bootpay
		// does not know these credentials.
		r := b.do(t, request{method: "POST", path: "/admin/v1/merchants/" + m.id + "/provider_accounts", auth: testAdminToken,
			body: map[string]any{"provider": "bootpay", "mode": "test", "base_url": b.url + "/sandbox/bootpay/v2",
				"credentials": map[string]any{"application_id": "unknown-app", "private_key": "wrong-key-0123456789"},
				"settings":    map[string]any{"default_pg": "nicepay"}}})
		requireStatus(t, r, http.StatusCreated)
		cus := b.newCustomer(t, m, fullCustomer)
		got := b.userToken(t, m.secret, cus, nil)
		requireError(t, got, http.StatusBadGateway, "provider_error", "provider_authentication_failed", "")
		if got.errorField("provider_code") == "" {
			t.Fatalf("no provider_code: %s", got.raw)
		}
		if n := b.countRows(t, "bootpay_user_tokens"); n != 0 {
			t.Fatalf("a failed request cached %d tokens", n)
		}
	})

	t.Run("IdempotencyKeyStoresNoToken", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m := b.newMerchant(t)
		b.newBootpayAccount(t, m, map[string]any{"default_pg": "nicepay"})
		cus := b.newCustomer(t, m, fullCustomer)
		var tokens []string
		for range 2 {
			r := b.do(t, request{method: "POST", path: "/v1/customers/" + cus + "/bootpay_user_token", auth: m.secret,
				header: map[string]string{"Idempotency-Key": "token-1"}})
			requireStatus(t, r, http.StatusCreated)
			tokens = append(tokens, r.str("user_token"))
		}
		if tokens[0] != tokens[1] {
			t.Fatal("a retry got another token")
		}
		var stored int
		if err := b.store.Pool().QueryRow(context.Background(),
			`SELECT count(*) FROM idempotency_keys WHERE position($1::bytea IN coalesce(response_body, '')) > 0`,
			[]byte(tokens[0])).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if stored != 0 || strings.Contains(b.logs.String(), tokens[0]) {
			t.Fatal("the user token was stored in clear or logged")
		}
	})
}
