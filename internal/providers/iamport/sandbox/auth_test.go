package sandbox_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/providers/iamport/sandbox"
)

func TestGetToken(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		path       string
		body       any
		wantStatus int
		wantCode   int
	}{
		{"JSON", "/users/getToken", map[string]string{"imp_key": key, "imp_secret": secret}, 200, 0},
		{"Form", "/users/getToken", url.Values{"imp_key": {key}, "imp_secret": {secret}}, 200, 0},
		{"TrailingSlash", "/users/getToken/", map[string]string{"imp_key": key, "imp_secret": secret}, 200, 0},
		{"WrongSecret", "/users/getToken", map[string]string{"imp_key": key, "imp_secret": "nope"}, 401, -1},
		{"UnknownKey", "/users/getToken", url.Values{"imp_key": {"other"}, "imp_secret": {secret}}, 401, -1},
		{"Missing", "/users/getToken", map[string]string{"imp_key": key}, 400, -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			r := call(t, "POST", b.url+tc.path, nil, tc.body)
			requireEnvelope(t, r, tc.wantStatus, tc.wantCode)
			if tc.wantCode != 0 {
				return
			}
			var tr tokenResp
			_ = json.Unmarshal(r.resp, &tr)
			if len(tr.AccessToken) != 40 || tr.ExpiredAt-tr.Now != 1800 || tr.Now != b.clock.Now().Unix() {
				t.Fatalf("token = %+v", tr)
			}
		})
	}
}

func TestTokenLifetime(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first := b.token(t)
	steps := []struct {
		advance     time.Duration
		wantSame    bool
		wantExpires int64 // relative to first.Now
		wantIssued  int
	}{
		{10 * time.Minute, true, 1800, 1},
		{19*time.Minute + 10*time.Second, true, 1800 + 300, 1}, // 50 s left: +300 s
		{30 * time.Second, true, 1800 + 300, 1},                // 320 s left: unchanged
		{6 * time.Minute, false, 2140 + 1800, 2},               // expired 40 s ago: a new token
	}
	for i, st := range steps {
		b.clock.Add(st.advance)
		tr := b.token(t)
		if (tr.AccessToken == first.AccessToken) != st.wantSame || tr.ExpiredAt-first.Now != st.wantExpires {
			t.Fatalf("step %d: token %+v (first %+v)", i, tr, first)
		}
		if got := b.sb.TokenIssued(); got != st.wantIssued {
			t.Fatalf("step %d: TokenIssued = %d", i, got)
		}
	}
	if got := b.sb.Calls("POST /users/getToken"); got != 5 {
		t.Fatalf("getToken calls = %d", got)
	}
	// The expired token is refused.
	requireEnvelope(t, call(t, "GET", b.url+"/payments/find/m1", bearer(first.AccessToken), nil), 401, -1)
}

func TestAuthorizationForms(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := b.token(t).AccessToken
	b.windowKey(t, "cus_auth")
	cases := []struct {
		name   string
		header http.Header
		want   int
	}{
		{"Bearer", http.Header{"Authorization": {"Bearer " + tok}}, 200},
		{"LowercaseBearer", http.Header{"Authorization": {"bearer " + tok}}, 200},
		{"Bare", http.Header{"Authorization": {tok}}, 200},
		{"LegacyHeader", http.Header{"X-Imptokenheader": {tok}}, 200},
		{"AuthorizationWins", http.Header{"Authorization": {"Bearer wrong"}, "X-Imptokenheader": {tok}}, 401},
		{"Missing", nil, 401},
		{"Unknown", http.Header{"Authorization": {"Bearer 0123456789012345678901234567890123456789"}}, 401},
		{"QueryTokenNotAccepted", nil, 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			target := b.url + "/subscribe/customers/cus_auth"
			if tc.name == "QueryTokenNotAccepted" {
				target += "?_token=" + tok
			}
			r := call(t, "GET", target, tc.header, nil)
			if tc.want == 200 {
				requireEnvelope(t, r, 200, 0)
			} else {
				requireEnvelope(t, r, 401, -1)
			}
		})
	}
}

// Every money route accepts JSON and form bodies, with or without a
// trailing slash, and answers in the envelope.
func TestLatencyDelaysEveryReply(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(sandbox.Options{Latency: 100 * time.Millisecond})
	sb.AddAccount(key, secret)
	t.Cleanup(sb.Close)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	start := time.Now()
	requireEnvelope(t, call(t, "POST", srv.URL+"/users/getToken", nil, url.Values{"imp_key": {key}, "imp_secret": {secret}}), 200, 0)
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Fatalf("reply after %v, want ≥ 100ms", d)
	}
}
