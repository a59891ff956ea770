package identity_test

import (
	"strings"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/admin"
	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/identity"
)

var fullCustomer = map[string]any{"external_id": "member-42", "name": "이서연", "email": "seoyeon@example.com",
	"phone": "010-1111-2222", "birth": "1990-10-04", "gender": "male"}

func ptr[T any](v T) *T { return &v }

func TestIssueUserToken(t *testing.T) {
	t.Parallel()

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		b := setup(t, map[string]any{"default_pg": "nicepay", "client_application_id": "js-app-id"})
		cus := b.mustCustomer(t, fullCustomer)
		res, err := b.svc.IssueUserToken(b.ctx, b.secret, cus.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		tok := res.Token
		if tok.Token == "" || tok.CustomerID != cus.ID || tok.Mode != billing.ModeTest || tok.ProviderAccountID != b.accountID ||
			res.PG != "nicepay" || res.ApplicationID != "js-app-id" || !tok.ExpiresAt.Equal(b.clock.Now().Add(time.Hour)) {
			t.Fatalf("result %+v (pg %s, app %s), token expires %s", tok, res.PG, res.ApplicationID, tok.ExpiresAt)
		}
		// What Bootpay was told: external_id as user_id, gender 1 for
		// male, birth as YYMMDD, phone as digits.
		got, ok := b.sandbox.Bootpay.LookupUserToken(tok.Token)
		if !ok || got.ApplicationID != b.appID || got.UserID != "member-42" || got.Name != "이서연" ||
			got.Email != "seoyeon@example.com" || got.Phone != "01011112222" || got.Birth != "901004" ||
			got.Gender == nil || *got.Gender != 1 {
			t.Fatalf("sandbox recorded %+v", got)
		}
		if strings.Contains(b.logs.String(), tok.Token) {
			t.Fatal("the user token was logged")
		}
	})

	// Reuse is decided on the service clock: a cached token is handed out
	// again only while it has more than five minutes left.
	t.Run("ReuseOnTheClock", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name  string
			later time.Duration // after the first token was issued (it lives one hour)
			reuse bool
		}{
			{"Immediately", 0, true},
			{"SixMinutesLeft", 54 * time.Minute, true},
			{"FiveMinutesOneSecondLeft", 55*time.Minute - time.Second, true},
			{"FiveMinutesLeft", 55 * time.Minute, false},
			{"Expired", 2 * time.Hour, false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				b := setup(t, map[string]any{"default_pg": "welcome"})
				cus := b.mustCustomer(t, fullCustomer)
				first, err := b.svc.IssueUserToken(b.ctx, b.secret, cus.ID, nil)
				if err != nil {
					t.Fatal(err)
				}
				b.clock.Advance(tt.later)
				second, err := b.svc.IssueUserToken(b.ctx, b.secret, cus.ID, nil)
				if err != nil {
					t.Fatal(err)
				}
				if reused := second.Token.Token == first.Token.Token; reused != tt.reuse {
					t.Fatalf("reused %v, want %v", reused, tt.reuse)
				}
				if !tt.reuse {
					if want := b.clock.Now().Add(time.Hour); !second.Token.ExpiresAt.Equal(want) {
						t.Fatalf("new token expires %s, want %s", second.Token.ExpiresAt, want)
					}
					// The new token replaced the cached one.
					third, err := b.svc.IssueUserToken(b.ctx, b.secret, cus.ID, nil)
					if err != nil || third.Token.Token != second.Token.Token {
						t.Fatalf("after renewal: %v, token reused %v", err, third.Token.Token == second.Token.Token)
					}
				}
			})
		}
	})

	t.Run("ChangedCustomerGetsANewToken", func(t *testing.T) {
		t.Parallel()
		b := setup(t, map[string]any{"default_pg": "nicepay"})
		cus := b.mustCustomer(t, fullCustomer)
		first, err := b.svc.IssueUserToken(b.ctx, b.secret, cus.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.store.UpdateCustomer(b.ctx, b.merchant.ID, billing.ModeTest, cus.ID,
			billing.CustomerInput{Name: billing.Set("이서윤")}); err != nil {
			t.Fatal(err)
		}
		second, err := b.svc.IssueUserToken(b.ctx, b.secret, cus.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := b.sandbox.Bootpay.LookupUserToken(second.Token.Token)
		if second.Token.Token == first.Token.Token || got.Name != "이서윤" {
			t.Fatalf("after the customer changed: same token %v, sandbox %+v", second.Token.Token == first.Token.Token, got)
		}
	})

	t.Run("PGChoice", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name     string
			settings map[string]any
			pg       *string
			want     string // "" expects EInvalid on pg
		}{
			{"DefaultPG", map[string]any{"default_pg": "welcome"}, nil, "welcome"},
			{"OldSpellingOfPayapp", map[string]any{"default_pg": "nicepay"}, ptr("paypp"), "payapp"},
			{"ExplicitOverridesDefault", map[string]any{"default_pg": "nicepay"}, ptr("PayApp"), "payapp"},
			{"OldSpellingAsDefault", map[string]any{"default_pg": "paypp"}, nil, "payapp"},
			{"NotAnEasyPG", map[string]any{"default_pg": "nicepay"}, ptr("kcp"), ""},
			{"DefaultNotAnEasyPG", map[string]any{"default_pg": "kcp"}, nil, ""},
			{"NoPGAtAll", nil, nil, ""},
			{"EmptyPG", map[string]any{"default_pg": "nicepay"}, ptr(""), ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				b := setup(t, tt.settings)
				cus := b.mustCustomer(t, fullCustomer)
				res, err := b.svc.IssueUserToken(b.ctx, b.secret, cus.ID, tt.pg)
				if tt.want == "" {
					requireError(t, err, billing.EInvalid, "parameter_invalid", "pg")
					return
				}
				if err != nil || res.PG != tt.want {
					t.Fatalf("pg %q (%v), want %s", res.PG, err, tt.want)
				}
			})
		}
	})

	t.Run("Refusals", func(t *testing.T) {
		t.Parallel()
		b := setup(t, map[string]any{"default_pg": "nicepay"})
		cus := b.mustCustomer(t, fullCustomer)
		anonymous := b.mustCustomer(t, map[string]any{"name": "외부아이디없음"})
		noPhone := b.mustCustomer(t, map[string]any{"external_id": "no-phone"})
		other, err := b.admin.CreateMerchant(b.ctx, "Other shop") // no Bootpay account
		if err != nil {
			t.Fatal(err)
		}
		otherCaller := identity.Caller{MerchantID: other.ID, Mode: billing.ModeTest, Secret: true}
		otherCus, err := b.store.CreateCustomer(b.ctx, billing.Customer{ID: billing.NewID(billing.PrefixCustomer),
			MerchantID: other.ID, Mode: billing.ModeTest, ExternalID: ptr("member-1")})
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name     string
			caller   identity.Caller
			customer string
			pg       *string
			code     billing.Code
			reason   string
			param    string
		}{
			{"PublishableKey", b.public, cus.ID, nil, billing.EForbidden, "secret_key_required", ""},
			{"NoExternalID", b.secret, anonymous.ID, nil, billing.EInvalid, "external_id_required", ""},
			{"PayappNeedsPhone", b.secret, noPhone.ID, ptr("payapp"), billing.EInvalid, "customer_phone_required", "pg"},
			{"NoBootpayAccount", otherCaller, otherCus.ID, nil, billing.EInvalid, "provider_not_configured", "provider"},
			{"UnknownCustomer", b.secret, "cus_00000000000000000000000000", nil, billing.ENotFound, "resource_missing", ""},
			{"MalformedCustomerID", b.secret, "nope", nil, billing.ENotFound, "resource_missing", ""},
			{"AnotherMerchantsCustomer", b.secret, otherCus.ID, nil, billing.ENotFound, "resource_missing", ""},
			{"LiveModeCustomer", identity.Caller{MerchantID: b.merchant.ID, Mode: billing.ModeLive, Secret: true}, cus.ID, nil,
				billing.ENotFound, "resource_missing", ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := b.svc.IssueUserToken(b.ctx, tt.caller, tt.customer, tt.pg)
				requireError(t, err, tt.code, tt.reason, tt.param)
			})
		}
		if n := b.countRows(t, "bootpay_user_tokens"); n != 0 {
			t.Fatalf("refused requests cached %d tokens", n)
		}
	})

	t.Run("PGRefusesCredentials", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		// An explicit base_url is not registered with the sandbox: Bootpay
		// does not know these credentials.
		other, err := b.admin.CreateMerchant(b.ctx, "Unknown to Bootpay")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.admin.CreateProviderAccount(b.ctx, other.ID, admin.ProviderAccountInput{Provider: "bootpay", Mode: "test",
			BaseURL:     billing.Set(b.sandboxURL + "/bootpay/v2"),
			Credentials: map[string]string{"application_id": "unknown-app", "private_key": "wrong-key-0123456789"},
			Settings:    map[string]any{"default_pg": "nicepay"}}); err != nil {
			t.Fatal(err)
		}
		cus, err := b.store.CreateCustomer(b.ctx, billing.Customer{ID: billing.NewID(billing.PrefixCustomer),
			MerchantID: other.ID, Mode: billing.ModeTest, ExternalID: ptr("member-9"), Name: ptr("박지민")})
		if err != nil {
			t.Fatal(err)
		}
		_, err = b.svc.IssueUserToken(b.ctx, identity.Caller{MerchantID: other.ID, Mode: billing.ModeTest, Secret: true}, cus.ID, nil)
		be := requireError(t, err, billing.EProvider, "provider_authentication_failed", "")
		if be.ProviderCode == "" {
			t.Fatalf("no provider_code: %v", be)
		}
		if n := b.countRows(t, "bootpay_user_tokens"); n != 0 {
			t.Fatalf("a failed request cached %d tokens", n)
		}
		// Logged once, with what the operator needs and nothing of the
		// customer.
		logs := b.logs.String()
		if strings.Count(logs, "provider call failed") != 1 || !strings.Contains(logs, `"provider_code":"`+be.ProviderCode+`"`) ||
			!strings.Contains(logs, `"kind":"PG authentication failed"`) || strings.Contains(logs, "박지민") || strings.Contains(logs, "member-9") {
			t.Fatalf("logs: %s", logs)
		}
	})
}
