package sandbox_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/providers/iamport/sandbox"
)

const (
	key    = "imp_key_1"
	secret = "imp_secret_1"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type testBundle struct {
	sb    *sandbox.Server
	url   string
	clock *testClock
}

func setup(t testing.TB) *testBundle {
	t.Helper()
	clock := &testClock{t: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
	sb := sandbox.New(sandbox.Options{Now: clock.Now})
	sb.AddAccount(key, secret)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	t.Cleanup(sb.Close)
	return &testBundle{sb: sb, url: srv.URL, clock: clock}
}

// reply is a decoded envelope plus its raw form.
type reply struct {
	status int
	raw    map[string]json.RawMessage
	code   int
	msg    *string
	resp   json.RawMessage
}

// call sends one raw request. body is a url.Values (form), a string (sent
// as-is with contentType) or anything else (JSON).
func call(t testing.TB, method, target string, header http.Header, body any) reply {
	t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, ct = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		raw, _ := json.Marshal(b)
		rd, ct = bytes.NewReader(raw), "application/json"
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := reply{status: resp.StatusCode}
	if err := json.NewDecoder(resp.Body).Decode(&r.raw); err != nil {
		t.Fatalf("%s %s: body is not JSON: %v", method, target, err)
	}
	_ = json.Unmarshal(r.raw["code"], &r.code)
	_ = json.Unmarshal(r.raw["message"], &r.msg)
	r.resp = r.raw["response"]
	return r
}

// requireEnvelope checks the envelope's shape: all three keys, message null
// exactly on success, response null exactly on errors.
func requireEnvelope(t testing.TB, r reply, wantStatus, wantCode int) {
	t.Helper()
	for _, k := range []string{"code", "message", "response"} {
		if _, ok := r.raw[k]; !ok {
			t.Fatalf("envelope lacks %q: %v", k, r.raw)
		}
	}
	if r.status != wantStatus || r.code != wantCode {
		t.Fatalf("HTTP %d code %d (%v), want HTTP %d code %d", r.status, r.code, r.msg, wantStatus, wantCode)
	}
	if wantCode == 0 && (r.msg != nil || string(r.resp) == "null") {
		t.Fatalf("success envelope with message %v / response %s", r.msg, r.resp)
	}
	if wantCode != 0 && (r.msg == nil || *r.msg == "" || string(r.resp) != "null") {
		t.Fatalf("error envelope with message %v / response %s", r.msg, r.resp)
	}
}

type tokenResp struct {
	AccessToken string `json:"access_token"`
	Now         int64  `json:"now"`
	ExpiredAt   int64  `json:"expired_at"`
}

func (b *testBundle) token(t testing.TB) tokenResp {
	t.Helper()
	r := call(t, "POST", b.url+"/users/getToken", nil, map[string]string{"imp_key": key, "imp_secret": secret})
	requireEnvelope(t, r, 200, 0)
	var tr tokenResp
	if err := json.Unmarshal(r.resp, &tr); err != nil {
		t.Fatal(err)
	}
	return tr
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

func (b *testBundle) windowKey(t testing.TB, uid string) {
	t.Helper()
	resp, err := http.PostForm(b.url+"/sandbox/window/billing_keys",
		url.Values{"imp_key": {key}, "customer_uid": {uid}, "pg": {"payco"}, "pay_method": {"card"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("window: HTTP %d", resp.StatusCode)
	}
}
