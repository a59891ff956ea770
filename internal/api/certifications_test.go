package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// The person the sandbox's identity window verifies unless told otherwise.
const (
	idName  = "김민준"
	idPhone = "01098765432"
	idBirth = "19920317"
	idCI    = "Q0lfZm9yX2FwaV90ZXN0c19vbmx5XzEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY="
)

// identityFields lists every form in which the default person's identity
// could leak.
var identityFields = []string{idName, idPhone, idBirth, "1992-03-17", "010-9876-5432", idCI, idCI[:24]}

// verifyIdentity does what a customer finishing Bootpay's identity window
// does, and returns the receipt_id the window hands the frontend. over
// replaces fields of the default person (name, phone, birth, gender,
// carrier, foreigner, unique_id) or sets expired / not_verified.
func (b *testBundle) verifyIdentity(t testing.TB, acc bootpayAccount, over map[string]any) string {
	t.Helper()
	body := map[string]any{"application_id": acc.appID, "name": idName, "phone": idPhone, "birth": idBirth,
		"gender": 1, "carrier": "SKT", "foreigner": false, "unique_id": idCI}
	for k, v := range over {
		body[k] = v
	}
	r := b.do(t, request{method: "POST", path: "/sandbox/bootpay/sandbox/window/certifications", body: body})
	requireStatus(t, r, http.StatusOK)
	return r.str("receipt_id")
}

func (b *testBundle) certify(t testing.TB, key string, body map[string]any) response {
	t.Helper()
	req := request{method: "POST", path: "/v1/certifications", auth: key}
	if body != nil {
		req.body = body
	}
	return b.do(t, req)
}

// certScenario is a merchant with a Bootpay account of one API generation.
type certScenario struct {
	b   *testBundle
	m   merchantKeys
	acc bootpayAccount
}

func setupCertification(t *testing.T, version string) certScenario {
	t.Helper()
	b := setup(t)
	m := b.newMerchant(t)
	var settings map[string]any
	if version == "v1" {
		settings = map[string]any{"api_version": "v1"}
	}
	return certScenario{b: b, m: m, acc: b.newBootpayAccount(t, m, settings)}
}

// requireNoIdentity fails when s shows any identity field.
func requireNoIdentity(t testing.TB, what, s string) {
	t.Helper()
	for _, f := range identityFields {
		if strings.Contains(s, f) {
			t.Errorf("%s contains identity %q", what, f)
		}
	}
}

var personIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestCertifications(t *testing.T) {
	t.Parallel()

	for _, version := range []string{"v2", "v1"} {
		t.Run("VerifiedStoredSealedAndLinked/"+version, func(t *testing.T) {
			t.Parallel()
			sc := setupCertification(t, version)
			b, m := sc.b, sc.m
			cus := b.newCustomer(t, m, map[string]any{"external_id": "member-7"})
			receipt := b.verifyIdentity(t, sc.acc, nil)

			created := b.certify(t, m.secret, map[string]any{"receipt_id": receipt, "customer_id": cus,
				"require": map[string]any{"min_age": 19, "phone": "010-9876-5432", "name": " " + idName + " "}})
			requireStatus(t, created, http.StatusCreated)
			id := created.str("id")
			identity, _ := created.body["identity"].(map[string]any)
			requirements, _ := created.body["requirements"].(map[string]any)
			if !strings.HasPrefix(id, "cert_") || created.str("status") != "verified" || created.body["verified"] != true ||
				created.str("receipt_id") != receipt || created.str("customer_id") != cus || created.str("provider") != "bootpay" ||
				!personIDPattern.MatchString(created.str("person_id")) ||
				identity["name"] != idName || identity["phone"] != idPhone || identity["birth"] != "1992-03-17" ||
				identity["gender"] != "male" || identity["carrier"] != "SKT" || identity["foreigner"] != false ||
				requirements["min_age"] != float64(19) || requirements["phone"] != true || requirements["name"] != true {
				t.Fatalf("certification %s", created.raw)
			}
			if created.header.Get("Cache-Control") != "no-store" {
				t.Fatal("an identity response may be cached")
			}

			got := b.do(t, request{method: "GET", path: "/v1/certifications/" + id, auth: m.secret})
			requireStatus(t, got, http.StatusOK)
			if !bytes.Equal(got.raw, created.raw) {
				t.Fatalf("GET %s differs from POST %s", got.raw, created.raw)
			}
			customer := b.do(t, request{method: "GET", path: "/v1/customers/" + cus, auth: m.secret})
			if customer.body["verified_at"] == nil {
				t.Fatalf("customer not marked verified: %s", customer.raw)
			}

			// At rest: no identity field, and no CI, anywhere in the row.
			var sealed []byte
			var row string
			if err := b.store.Pool().QueryRow(context.Background(),
				`SELECT identity_sealed, row_to_json(c)::text FROM certifications c WHERE id = $1`, id).Scan(&sealed, &row); err != nil {
				t.Fatal(err)
			}
			for _, f := range identityFields {
				if bytes.Contains(sealed, []byte(f)) {
					t.Errorf("sealed identity contains %q", f)
				}
			}
			requireNoIdentity(t, "the stored row", row)

			// A replay is refused and names the certification, even after
			// Bootpay stopped showing the certificate.
			b.sandbox.Bootpay.Advance(31 * time.Minute)
			replay := b.certify(t, m.secret, map[string]any{"receipt_id": receipt})
			requireError(t, replay, http.StatusConflict, "conflict", "receipt_already_used", "receipt_id")
			if !strings.Contains(replay.errorField("message"), id) {
				t.Fatalf("replay does not name %s: %s", id, replay.raw)
			}
			if n := b.countRows(t, "certifications"); n != 1 {
				t.Fatalf("%d certifications stored, want 1", n)
			}
		})
	}

	t.Run("ConcurrentSubmissionsOfOneReceipt", func(t *testing.T) {
		t.Parallel()
		sc := setupCertification(t, "v2")
		b, m := sc.b, sc.m
		cus := b.newCustomer(t, m, map[string]any{})
		receipt := b.verifyIdentity(t, sc.acc, nil)
		const n = 8
		statuses := make(chan int, n)
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses <- b.certify(t, m.secret, map[string]any{"receipt_id": receipt, "customer_id": cus}).status
			}()
		}
		wg.Wait()
		close(statuses)
		counts := map[int]int{}
		for st := range statuses {
			counts[st]++
		}
		if counts[http.StatusCreated] != 1 || counts[http.StatusConflict] != n-1 {
			t.Fatalf("statuses %v, want one 201 and %d 409s", counts, n-1)
		}
		if rows := b.countRows(t, "certifications"); rows != 1 {
			t.Fatalf("%d certifications stored", rows)
		}
	})

	t.Run("SamePersonSamePersonID", func(t *testing.T) {
		t.Parallel()
		sc := setupCertification(t, "v2")
		b, m := sc.b, sc.m
		personOf := func(key string, acc bootpayAccount, over map[string]any) string {
			t.Helper()
			r := b.certify(t, key, map[string]any{"receipt_id": b.verifyIdentity(t, acc, over)})
			requireStatus(t, r, http.StatusCreated)
			return r.str("person_id")
		}
		first := personOf(m.secret, sc.acc, nil)
		// The same CI under another phone (a new number) and customer.
		again := personOf(m.secret, sc.acc, map[string]any{"phone": "01055556666"})
		someoneElse := personOf(m.secret, sc.acc, map[string]any{"unique_id": "another-persons-ci-" + randomHex(t, 8)})
		if first != again {
			t.Fatalf("one CI, two person_ids: %s, %s", first, again)
		}
		if someoneElse == first {
			t.Fatal("two CIs, one person_id")
		}
		// Another merchant cannot correlate its users with this merchant's.
		other := b.newMerchant(t)
		otherAcc := b.newBootpayAccount(t, other, nil)
		if theirs := personOf(other.secret, otherAcc, nil); theirs == first {
			t.Fatal("person_id is the same across merchants")
		}
	})

	t.Run("RefusedCertificates", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name    string
			version string
			window  map[string]any // nil: a receipt the window never issued
			advance time.Duration
			code    string
			pgCode  bool
		}{
			{"NotVerified/v2", "v2", map[string]any{"not_verified": true}, 0, "certificate_not_verified", false},
			{"NotVerified/v1", "v1", map[string]any{"not_verified": true}, 0, "certificate_not_verified", false},
			{"Expired/v2", "v2", map[string]any{"expired": true}, 0, "certificate_expired", true},
			{"LookedUpTooLate/v2", "v2", map[string]any{}, 31 * time.Minute, "certificate_expired", true},
			// v1 reports the lapsed lookup window with code -2501.
			{"Expired/v1", "v1", map[string]any{"expired": true}, 0, "certificate_expired", true},
			{"Unknown/v2", "v2", nil, 0, "certificate_not_found", true},
			{"Unknown/v1", "v1", nil, 0, "certificate_not_found", true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				sc := setupCertification(t, tt.version)
				b := sc.b
				cus := b.newCustomer(t, sc.m, map[string]any{})
				receipt := "ffffffffffffffffffff0000"
				if tt.window != nil {
					receipt = b.verifyIdentity(t, sc.acc, tt.window)
				}
				b.sandbox.Bootpay.Advance(tt.advance)
				r := b.certify(t, sc.m.secret, map[string]any{"receipt_id": receipt, "customer_id": cus})
				requireError(t, r, http.StatusBadRequest, "invalid_request", tt.code, "receipt_id")
				if tt.pgCode != (r.errorField("provider_code") != "") {
					t.Fatalf("provider_code %q: %s", r.errorField("provider_code"), r.raw)
				}
				requireNoIdentity(t, "the error", string(r.raw))
				if n := b.countRows(t, "certifications"); n != 0 {
					t.Fatalf("a refused certificate stored %d rows", n)
				}
				if c := b.do(t, request{method: "GET", path: "/v1/customers/" + cus, auth: sc.m.secret}); c.body["verified_at"] != nil {
					t.Fatal("a refused certificate marked the customer verified")
				}
			})
		}
	})

	t.Run("MinAgeAroundBirthdayInSeoul", func(t *testing.T) {
		t.Parallel()
		sc := setupCertification(t, "v2")
		b, m := sc.b, sc.m
		today := seoulToday(t)
		tomorrow := today.AddDate(0, 0, 1)
		day := today.Day()
		if today.Month() == time.February && day == 29 {
			day = 28 // born on the 28th of a common year: 19 today too
		}
		nineteenToday := fmt.Sprintf("%04d%02d%02d", today.Year()-19, today.Month(), day)
		nineteenTomorrow := fmt.Sprintf("%04d%02d%02d", tomorrow.Year()-19, tomorrow.Month(), tomorrow.Day())

		passes := b.certify(t, m.secret, map[string]any{"receipt_id": b.verifyIdentity(t, sc.acc, map[string]any{"birth": nineteenToday}),
			"require": map[string]any{"min_age": 19}})
		requireStatus(t, passes, http.StatusCreated)

		receipt := b.verifyIdentity(t, sc.acc, map[string]any{"birth": nineteenTomorrow, "unique_id": "ci-young-" + randomHex(t, 8)})
		tooYoung := b.certify(t, m.secret, map[string]any{"receipt_id": receipt, "require": map[string]any{"min_age": 19}})
		requireError(t, tooYoung, http.StatusBadRequest, "invalid_request", "requirement_failed", "require.min_age")
		requireNoIdentity(t, "the error", string(tooYoung.raw))
		// 18 is fine, and the refused attempt stored nothing: the receipt
		// is still unused.
		requireStatus(t, b.certify(t, m.secret, map[string]any{"receipt_id": receipt, "require": map[string]any{"min_age": 18}}), http.StatusCreated)
	})

	t.Run("PhoneAndNameRequirements", func(t *testing.T) {
		t.Parallel()
		sc := setupCertification(t, "v2")
		b, m := sc.b, sc.m
		receipt := b.verifyIdentity(t, sc.acc, nil)
		tests := []struct {
			require map[string]any
			param   string
		}{
			{map[string]any{"phone": "010-1234-0000"}, "require.phone"},
			{map[string]any{"name": "김민수"}, "require.name"},
			{map[string]any{"name": idName + "씨"}, "require.name"},
			{map[string]any{"phone": idPhone, "name": "Kim"}, "require.name"},
		}
		for _, tt := range tests {
			r := b.certify(t, m.secret, map[string]any{"receipt_id": receipt, "require": tt.require})
			requireError(t, r, http.StatusBadRequest, "invalid_request", "requirement_failed", tt.param)
			requireNoIdentity(t, "the error", string(r.raw))
		}
		if n := b.countRows(t, "certifications"); n != 0 {
			t.Fatalf("failed requirements stored %d rows", n)
		}
		requireStatus(t, b.certify(t, m.secret, map[string]any{"receipt_id": receipt,
			"require": map[string]any{"phone": "+82 10-9876-5432", "name": idName}}), http.StatusCreated)
	})

	t.Run("PublishableKeySeesStatusOnly", func(t *testing.T) {
		t.Parallel()
		sc := setupCertification(t, "v2")
		b, m := sc.b, sc.m
		created := b.certify(t, m.publishable, map[string]any{"receipt_id": b.verifyIdentity(t, sc.acc, nil)})
		requireStatus(t, created, http.StatusCreated)
		id := created.str("id")
		publicKeys := []string{"id", "object", "receipt_id", "status", "verified"}
		for _, r := range []response{created, b.do(t, request{method: "GET", path: "/v1/certifications/" + id, auth: m.publishable})} {
			if r.status != http.StatusCreated && r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.raw)
			}
			if keys := sortedKeys(r.body); strings.Join(keys, ",") != strings.Join(publicKeys, ",") {
				t.Fatalf("publishable key sees %v", keys)
			}
			requireNoIdentity(t, "the publishable view", string(r.raw))
			if r.body["verified"] != true || r.str("status") != "verified" {
				t.Fatalf("publishable view %s", r.raw)
			}
		}
		full := b.do(t, request{method: "GET", path: "/v1/certifications/" + id, auth: m.secret})
		requireStatus(t, full, http.StatusOK)
		if full.body["identity"].(map[string]any)["name"] != idName {
			t.Fatalf("secret view %s", full.raw)
		}
		// A browser may not mark a customer verified.
		cus := b.newCustomer(t, m, map[string]any{})
		linked := b.certify(t, m.publishable, map[string]any{"receipt_id": b.verifyIdentity(t, sc.acc, nil), "customer_id": cus})
		requireError(t, linked, http.StatusForbidden, "permission_error", "secret_key_required", "customer_id")
		// Browsers may call it.
		pre := b.do(t, request{method: "OPTIONS", path: "/v1/certifications", header: map[string]string{
			"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"}})
		if pre.status != http.StatusNoContent || pre.header.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("preflight %d %v", pre.status, pre.header)
		}
	})

	t.Run("ScopedByMerchantAndMode", func(t *testing.T) {
		t.Parallel()
		sc := setupCertification(t, "v2")
		b, m := sc.b, sc.m
		created := b.certify(t, m.secret, map[string]any{"receipt_id": b.verifyIdentity(t, sc.acc, nil)})
		requireStatus(t, created, http.StatusCreated)
		id := created.str("id")
		other := b.newMerchant(t)
		live := b.newKey(t, m.id, "secret", "live")
		for _, key := range []string{other.secret, other.publishable, live} {
			r := b.do(t, request{method: "GET", path: "/v1/certifications/" + id, auth: key})
			requireError(t, r, http.StatusNotFound, "not_found", "resource_missing", "")
		}
		for _, bad := range []string{"cert_00000000000000000000000000", "nope", "cus_00000000000000000000000000"} {
			requireStatus(t, b.do(t, request{method: "GET", path: "/v1/certifications/" + bad, auth: m.secret}), http.StatusNotFound)
		}
		// Another merchant's customer cannot be linked.
		otherCus := b.newCustomer(t, other, map[string]any{})
		r := b.certify(t, m.secret, map[string]any{"receipt_id": b.verifyIdentity(t, sc.acc, nil), "customer_id": otherCus})
		requireError(t, r, http.StatusBadRequest, "invalid_request", "resource_missing", "customer_id")
	})

	t.Run("Validation", func(t *testing.T) {
		t.Parallel()
		sc := setupCertification(t, "v2")
		b, m := sc.b, sc.m
		receipt := b.verifyIdentity(t, sc.acc, nil)
		noAccount := b.newMerchant(t)
		tests := []struct {
			name  string
			key   string
			body  any
			code  string
			param string
		}{
			{"NoReceipt", m.secret, map[string]any{}, "parameter_invalid", "receipt_id"},
			{"EmptyBody", m.secret, nil, "parameter_invalid", "receipt_id"},
			{"ReceiptPathTraversal", m.secret, map[string]any{"receipt_id": "../receipt/x"}, "parameter_invalid", "receipt_id"},
			{"ReceiptNotString", m.secret, map[string]any{"receipt_id": 42}, "parameter_invalid", "receipt_id"},
			{"MalformedCustomer", m.secret, map[string]any{"receipt_id": receipt, "customer_id": "nope"}, "resource_missing", "customer_id"},
			{"UnknownCustomer", m.secret, map[string]any{"receipt_id": receipt, "customer_id": "cus_00000000000000000000000000"}, "resource_missing", "customer_id"},
			{"MinAgeZero", m.secret, map[string]any{"receipt_id": receipt, "require": map[string]any{"min_age": 0}}, "parameter_invalid", "require.min_age"},
			{"MinAgeFraction", m.secret, map[string]any{"receipt_id": receipt, "require": map[string]any{"min_age": 19.5}}, "parameter_invalid", "require.min_age"},
			{"BadPhone", m.secret, map[string]any{"receipt_id": receipt, "require": map[string]any{"phone": "call me"}}, "parameter_invalid", "require.phone"},
			{"UnknownRequirement", m.secret, map[string]any{"receipt_id": receipt, "require": map[string]any{"adult": true}}, "parameter_unknown", "adult"},
			{"UnknownField", m.secret, map[string]any{"receipt_id": receipt, "ci": "x"}, "parameter_unknown", "ci"},
			{"NoBootpayAccount", noAccount.secret, map[string]any{"receipt_id": receipt}, "provider_not_configured", "provider"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				requireError(t, b.certify(t, tt.key, asMap(tt.body)), http.StatusBadRequest, "invalid_request", tt.code, tt.param)
			})
		}
		if n := b.countRows(t, "certifications"); n != 0 {
			t.Fatalf("invalid requests stored %d certifications", n)
		}
		// Idempotency-Key: no stored replay holding the identity; a retry
		// is the 409 naming the certification.
		for i, want := range []int{http.StatusCreated, http.StatusConflict} {
			r := b.do(t, request{method: "POST", path: "/v1/certifications", auth: m.secret,
				header: map[string]string{"Idempotency-Key": "cert-1"}, body: map[string]any{"receipt_id": receipt}})
			if r.status != want {
				t.Fatalf("attempt %d: %d %s", i, r.status, r.raw)
			}
		}
		if n := b.countRows(t, "idempotency_keys"); n != 0 {
			t.Fatalf("%d idempotency records hold a certification response", n)
		}
	})
}

// TestCertificationLogsHoldNoIdentity runs certifications that succeed and
// fail in every way, then searches everything logged for the identity.
func TestCertificationLogsHoldNoIdentity(t *testing.T) {
	t.Parallel()
	sc := setupCertification(t, "v2")
	b, m := sc.b, sc.m
	cus := b.newCustomer(t, m, map[string]any{"external_id": "member-1"})
	receipt := b.verifyIdentity(t, sc.acc, nil)
	b.certify(t, m.secret, map[string]any{"receipt_id": receipt, "require": map[string]any{"min_age": 99}})
	b.certify(t, m.secret, map[string]any{"receipt_id": receipt, "require": map[string]any{"phone": "01000000000"}})
	b.certify(t, m.secret, map[string]any{"receipt_id": receipt, "require": map[string]any{"name": "다른사람"}})
	ok := b.certify(t, m.secret, map[string]any{"receipt_id": receipt, "customer_id": cus,
		"require": map[string]any{"phone": idPhone, "name": idName, "min_age": 19}})
	requireStatus(t, ok, http.StatusCreated)
	b.certify(t, m.secret, map[string]any{"receipt_id": receipt})
	b.certify(t, m.publishable, map[string]any{"receipt_id": b.verifyIdentity(t, sc.acc, nil)})
	b.certify(t, m.secret, map[string]any{"receipt_id": b.verifyIdentity(t, sc.acc, map[string]any{"expired": true})})
	b.certify(t, m.secret, map[string]any{"receipt_id": b.verifyIdentity(t, sc.acc, map[string]any{"not_verified": true})})
	b.do(t, request{method: "GET", path: "/v1/certifications/" + ok.str("id"), auth: m.secret})
	b.do(t, request{method: "GET", path: "/v1/certifications/" + ok.str("id"), auth: m.publishable})
	b.do(t, request{method: "GET", path: "/v1/customers/" + cus, auth: m.secret})

	logs := b.logs.String()
	if !strings.Contains(logs, `"route":"/v1/certifications"`) {
		t.Fatalf("nothing was logged; the test would prove nothing:\n%s", logs)
	}
	requireNoIdentity(t, "the logs", logs)
	if strings.Contains(logs, "SKT") {
		t.Error("the logs contain the carrier")
	}
}

func seoulToday(t testing.TB) time.Time {
	t.Helper()
	kst := time.FixedZone("KST", 9*3600)
	now := time.Now().In(kst)
	// Keep the test from straddling midnight in Seoul.
	if midnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, kst); midnight.Sub(now) < 30*time.Second {
		time.Sleep(midnight.Sub(now) + time.Second)
		now = time.Now().In(kst)
	}
	return now
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// asMap lets a table hold "no body" as nil.
func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}
