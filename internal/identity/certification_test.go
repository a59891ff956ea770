package identity_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/identity"
)

// The person the sandbox's identity window verifies unless told otherwise.
const (
	idName  = "김민준"
	idPhone = "01098765432"
	idBirth = "20060317"
	idCI    = "Q0lfZm9yX2lkZW50aXR5X3Rlc3RzX29ubHlfMTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MA=="
)

// verifyIdentity does what a customer finishing Bootpay's identity window
// does, at the bundle clock's now, and returns the window's receipt_id.
// over replaces fields of the default person (name, phone, birth, gender,
// unique_id) or sets expired / not_verified.
func (b *testBundle) verifyIdentity(t *testing.T, over map[string]any) string {
	t.Helper()
	body := map[string]any{"application_id": b.appID, "name": idName, "phone": idPhone, "birth": idBirth,
		"gender": 1, "carrier": "SKT", "foreigner": false, "unique_id": idCI}
	for k, v := range over {
		body[k] = v
	}
	var out struct {
		ReceiptID string `json:"receipt_id"`
	}
	postJSON(t, b.sandboxURL+"/bootpay/sandbox/window/certifications", body, &out)
	return out.ReceiptID
}

func certifyInput(receiptID string, require billing.Requirements) identity.CertifyInput {
	return identity.CertifyInput{ReceiptID: &receiptID, Require: require}
}

// requireNoIdentity fails when cert shows any identity.
func requireNoIdentity(t *testing.T, cert billing.Certification) {
	t.Helper()
	if !reflect.DeepEqual(cert.Identity, billing.Identity{}) || cert.PersonID != "" {
		t.Fatalf("the publishable view carries identity (person %q)", cert.PersonID)
	}
}

func TestCertify(t *testing.T) {
	t.Parallel()

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		cus := b.mustCustomer(t, map[string]any{"external_id": "member-7"})
		verifiedAt := b.clock.Now()
		receipt := b.verifyIdentity(t, nil)
		in := certifyInput(receipt, billing.Requirements{MinAge: ptr(18), Phone: ptr("010-9876-5432"), Name: ptr(" " + idName + " ")})
		in.CustomerID = &cus.ID
		b.clock.Advance(10 * time.Minute)

		created, err := b.svc.Certify(b.ctx, b.secret, in)
		if err != nil {
			t.Fatal(err)
		}
		id := created.Identity
		if !strings.HasPrefix(created.ID, billing.PrefixCertification) || created.Status != billing.CertificationVerified ||
			created.ReceiptID != receipt || created.CustomerID == nil || *created.CustomerID != cus.ID ||
			created.Provider != "bootpay" || created.ProviderAccountID != b.accountID || created.PersonID == "" ||
			id.Name != idName || id.Phone != idPhone || id.Birth == nil || id.Birth.String() != "2006-03-17" ||
			id.Gender == nil || *id.Gender != billing.GenderMale || id.Carrier != "SKT" ||
			created.Requirements.MinAge == nil || *created.Requirements.MinAge != 18 || !created.Requirements.Phone || !created.Requirements.Name {
			t.Fatalf("certification %v: %+v", created, created.Requirements)
		}
		// Bootpay's verification time, not the time of the lookup.
		if !created.VerifiedAt.Equal(verifiedAt) {
			t.Fatalf("verified_at %s, want %s", created.VerifiedAt, verifiedAt)
		}
		got, err := b.svc.GetCertification(b.ctx, b.secret, created.ID)
		if err != nil || got.Identity.Name != idName || got.PersonID != created.PersonID {
			t.Fatalf("get: %v, %v", got, err)
		}
		linked, err := b.store.GetCustomer(b.ctx, b.merchant.ID, billing.ModeTest, cus.ID)
		if err != nil || linked.VerifiedAt == nil || !linked.VerifiedAt.Equal(verifiedAt) {
			t.Fatalf("customer verified_at %v (%v), want %s", linked.VerifiedAt, err, verifiedAt)
		}
		if logs := b.logs.String(); strings.Contains(logs, idName) || strings.Contains(logs, idPhone) || strings.Contains(logs, idCI) {
			t.Fatalf("identity logged: %s", logs)
		}

		// A replay is refused before Bootpay is asked: the same answer
		// after Bootpay's 30-minute lookup window closed.
		b.clock.Advance(31 * time.Minute)
		_, err = b.svc.Certify(b.ctx, b.secret, certifyInput(receipt, billing.Requirements{}))
		be := requireError(t, err, billing.EConflict, "receipt_already_used", "receipt_id")
		if !strings.Contains(be.Message, created.ID) {
			t.Fatalf("replay does not name %s: %s", created.ID, be.Message)
		}
	})

	// Requirements are checked on the service clock; age is counted on the
	// calendar day in Seoul.
	t.Run("Requirements", func(t *testing.T) {
		t.Parallel()
		beforeMidnightKST := time.Date(2025, time.March, 16, 14, 59, 59, 0, time.UTC) // 16 March 23:59:59 in Seoul
		midnightKST := time.Date(2025, time.March, 16, 15, 0, 0, 0, time.UTC)         // 17 March 00:00 in Seoul
		tests := []struct {
			name    string
			now     time.Time
			window  map[string]any // changes to the default person (born 2006-03-17)
			require billing.Requirements
			param   string // "" expects success
		}{
			{"EighteenOnTheEveOf19thBirthday", beforeMidnightKST, nil, billing.Requirements{MinAge: ptr(19)}, "require.min_age"},
			{"NineteenAtMidnightInSeoul", midnightKST, nil, billing.Requirements{MinAge: ptr(19)}, ""},
			{"EighteenIsEnoughTheDayBefore", beforeMidnightKST, nil, billing.Requirements{MinAge: ptr(18)}, ""},
			{"LeapDayBirthdayIsFirstOfMarch", time.Date(2025, time.February, 28, 16, 0, 0, 0, time.UTC),
				map[string]any{"birth": "20040229"}, billing.Requirements{MinAge: ptr(21)}, ""},
			{"LeapDayBirthdayNotOn28February", time.Date(2025, time.February, 28, 14, 0, 0, 0, time.UTC),
				map[string]any{"birth": "20040229"}, billing.Requirements{MinAge: ptr(21)}, "require.min_age"},
			{"UnreadableBirthFailsMinAge", midnightKST, map[string]any{"birth": "19001399"}, billing.Requirements{MinAge: ptr(1)}, "require.min_age"},
			{"PhoneMatchesInAnyForm", midnightKST, nil, billing.Requirements{Phone: ptr("+82 10-9876-5432")}, ""},
			{"PhoneDiffers", midnightKST, nil, billing.Requirements{Phone: ptr("010-1234-0000")}, "require.phone"},
			{"NoPhoneFailsPhone", midnightKST, map[string]any{"phone": ""}, billing.Requirements{Phone: ptr(idPhone)}, "require.phone"},
			{"NameMatchesTrimmed", midnightKST, nil, billing.Requirements{Name: ptr(" " + idName + "\t")}, ""},
			{"NameDiffers", midnightKST, nil, billing.Requirements{Name: ptr(idName + "씨")}, "require.name"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				b := setup(t, nil)
				b.clock.Set(tt.now)
				receipt := b.verifyIdentity(t, tt.window)
				created, err := b.svc.Certify(b.ctx, b.secret, certifyInput(receipt, tt.require))
				if tt.param != "" {
					be := requireError(t, err, billing.EInvalid, "requirement_failed", tt.param)
					if strings.Contains(be.Error(), idName) || strings.Contains(be.Error(), idPhone) {
						t.Fatalf("the error shows identity: %v", be)
					}
					if n := b.countRows(t, "certifications"); n != 0 {
						t.Fatalf("a failed requirement stored %d rows", n)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				checked := created.Requirements
				if (tt.require.MinAge != nil) != (checked.MinAge != nil) || (tt.require.Phone != nil) != checked.Phone ||
					(tt.require.Name != nil) != checked.Name {
					t.Fatalf("checked %+v for %+v", checked, tt.require)
				}
			})
		}
	})

	t.Run("PublishableView", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		created, err := b.svc.Certify(b.ctx, b.public, certifyInput(b.verifyIdentity(t, nil), billing.Requirements{}))
		if err != nil {
			t.Fatal(err)
		}
		if created.Status != billing.CertificationVerified || created.ID == "" {
			t.Fatalf("publishable view %v", created)
		}
		requireNoIdentity(t, created)
		got, err := b.svc.GetCertification(b.ctx, b.public, created.ID)
		if err != nil {
			t.Fatal(err)
		}
		requireNoIdentity(t, got)
		full, err := b.svc.GetCertification(b.ctx, b.secret, created.ID)
		if err != nil || full.Identity.Name != idName || full.PersonID == "" {
			t.Fatalf("secret view %v, %v", full, err)
		}

		// A browser may not mark a customer verified.
		cus := b.mustCustomer(t, map[string]any{})
		in := certifyInput(b.verifyIdentity(t, nil), billing.Requirements{})
		in.CustomerID = &cus.ID
		_, err = b.svc.Certify(b.ctx, b.public, in)
		requireError(t, err, billing.EForbidden, "secret_key_required", "customer_id")
		if n := b.countRows(t, "certifications"); n != 1 {
			t.Fatalf("%d certifications stored, want 1", n)
		}
	})

	// What concerns the receipt is the caller's 400 on receipt_id, with
	// Bootpay's code when Bootpay gave one; it is not logged as a PG failure.
	t.Run("RefusedReceipts", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name    string
			version string
			window  map[string]any // nil: a receipt the window never issued
			advance time.Duration
			reason  string
			pgCode  bool
		}{
			{"NotVerified/v2", "v2", map[string]any{"not_verified": true}, 0, "certificate_not_verified", false},
			{"NotVerified/v1", "v1", map[string]any{"not_verified": true}, 0, "certificate_not_verified", false},
			{"Expired/v2", "v2", map[string]any{"expired": true}, 0, "certificate_expired", true},
			{"LookedUpTooLate/v2", "v2", map[string]any{}, 31 * time.Minute, "certificate_expired", true},
			{"LookedUpJustInTime/v2", "v2", map[string]any{}, 30 * time.Minute, "", false},
			{"LookedUpTooLate/v1", "v1", map[string]any{}, 31 * time.Minute, "certificate_expired", true},
			// v1 reports the lapsed lookup window with code -2501.
			{"Expired/v1", "v1", map[string]any{"expired": true}, 0, "certificate_expired", true},
			{"Unknown/v2", "v2", nil, 0, "certificate_not_found", true},
			{"Unknown/v1", "v1", nil, 0, "certificate_not_found", true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				var settings map[string]any
				if tt.version == "v1" {
					settings = map[string]any{"api_version": "v1"}
				}
				b := setup(t, settings)
				cus := b.mustCustomer(t, map[string]any{})
				receipt := "ffffffffffffffffffff0000"
				if tt.window != nil {
					receipt = b.verifyIdentity(t, tt.window)
				}
				b.clock.Advance(tt.advance)
				in := certifyInput(receipt, billing.Requirements{})
				in.CustomerID = &cus.ID
				_, err := b.svc.Certify(b.ctx, b.secret, in)
				if tt.reason == "" {
					if err != nil {
						t.Fatal(err)
					}
					return
				}
				be := requireError(t, err, billing.EInvalid, tt.reason, "receipt_id")
				if tt.pgCode != (be.ProviderCode != "") {
					t.Fatalf("provider_code %q", be.ProviderCode)
				}
				if n := b.countRows(t, "certifications"); n != 0 {
					t.Fatalf("a refused certificate stored %d rows", n)
				}
				if c, err := b.store.GetCustomer(b.ctx, b.merchant.ID, billing.ModeTest, cus.ID); err != nil || c.VerifiedAt != nil {
					t.Fatalf("a refused certificate marked the customer verified (%v)", err)
				}
				if strings.Contains(b.logs.String(), "provider call failed") {
					t.Fatalf("a refused receipt was logged as a PG failure: %s", b.logs.String())
				}
			})
		}
	})

	t.Run("Validation", func(t *testing.T) {
		t.Parallel()
		b := setup(t, nil)
		receipt := b.verifyIdentity(t, nil)
		other, err := b.admin.CreateMerchant(b.ctx, "Other shop") // no Bootpay account
		if err != nil {
			t.Fatal(err)
		}
		otherCus, err := b.store.CreateCustomer(b.ctx, billing.Customer{ID: billing.NewID(billing.PrefixCustomer),
			MerchantID: other.ID, Mode: billing.ModeTest})
		if err != nil {
			t.Fatal(err)
		}
		withCustomer := func(id string) identity.CertifyInput {
			in := certifyInput(receipt, billing.Requirements{})
			in.CustomerID = &id
			return in
		}
		tests := []struct {
			name   string
			caller identity.Caller
			in     identity.CertifyInput
			code   billing.Code
			reason string
			param  string
		}{
			{"NoReceipt", b.secret, identity.CertifyInput{}, billing.EInvalid, "parameter_invalid", "receipt_id"},
			{"EmptyReceipt", b.secret, certifyInput("", billing.Requirements{}), billing.EInvalid, "parameter_invalid", "receipt_id"},
			{"ReceiptPathTraversal", b.secret, certifyInput("../receipt/x", billing.Requirements{}), billing.EInvalid, "parameter_invalid", "receipt_id"},
			{"ReceiptTooLong", b.secret, certifyInput(strings.Repeat("a", 65), billing.Requirements{}), billing.EInvalid, "parameter_invalid", "receipt_id"},
			{"MalformedCustomer", b.secret, withCustomer("nope"), billing.EInvalid, "resource_missing", "customer_id"},
			{"UnknownCustomer", b.secret, withCustomer("cus_00000000000000000000000000"), billing.EInvalid, "resource_missing", "customer_id"},
			{"AnotherMerchantsCustomer", b.secret, withCustomer(otherCus.ID), billing.EInvalid, "resource_missing", "customer_id"},
			{"MinAgeZero", b.secret, certifyInput(receipt, billing.Requirements{MinAge: ptr(0)}), billing.EInvalid, "parameter_invalid", "require.min_age"},
			{"BadPhone", b.secret, certifyInput(receipt, billing.Requirements{Phone: ptr("call me")}), billing.EInvalid, "parameter_invalid", "require.phone"},
			{"NoBootpayAccount", identity.Caller{MerchantID: other.ID, Mode: billing.ModeTest, Secret: true}, certifyInput(receipt, billing.Requirements{}),
				billing.EInvalid, "provider_not_configured", "provider"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := b.svc.Certify(b.ctx, tt.caller, tt.in)
				requireError(t, err, tt.code, tt.reason, tt.param)
			})
		}
		if n := b.countRows(t, "certifications"); n != 0 {
			t.Fatalf("invalid requests stored %d certifications", n)
		}
	})
}

func TestGetCertification(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	created, err := b.svc.Certify(b.ctx, b.secret, certifyInput(b.verifyIdentity(t, nil), billing.Requirements{}))
	if err != nil {
		t.Fatal(err)
	}
	other, err := b.admin.CreateMerchant(b.ctx, "Other shop")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		caller identity.Caller
		id     string
	}{
		{"AnotherMerchant", identity.Caller{MerchantID: other.ID, Mode: billing.ModeTest, Secret: true}, created.ID},
		{"LiveMode", identity.Caller{MerchantID: b.merchant.ID, Mode: billing.ModeLive, Secret: true}, created.ID},
		{"Unknown", b.secret, "cert_00000000000000000000000000"},
		{"Malformed", b.secret, "nope"},
		{"AnotherKindOfID", b.secret, "cus_00000000000000000000000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := b.svc.GetCertification(b.ctx, tt.caller, tt.id)
			requireError(t, err, billing.ENotFound, "resource_missing", "")
		})
	}
}
