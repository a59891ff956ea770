package sandbox_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/providers/bootpay/sandbox"
)

const (
	appID  = "app_sandbox_test"
	appKey = "key_sandbox_test="
	prefix = "/sandbox/bootpay"
)

type env struct {
	sb  *sandbox.Server
	srv *httptest.Server
}

func newEnv(t testing.TB, opts sandbox.Options) *env {
	t.Helper()
	if opts.Now == nil {
		start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		opts.Now = func() time.Time { return start }
	}
	sb := sandbox.New(opts)
	sb.AddAccount(appID, appKey)
	mux := http.NewServeMux()
	mux.Handle(prefix+"/", http.StripPrefix(prefix, sb))
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); sb.Close() })
	return &env{sb: sb, srv: srv}
}

// do sends a JSON request and decodes the JSON reply into a map.
func (e *env) do(t testing.TB, method, path, auth string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.srv.URL+prefix+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

func (e *env) v2Token(t testing.TB, path string) (string, float64) {
	t.Helper()
	code, out := e.do(t, http.MethodPost, path, "", map[string]any{"application_id": appID, "private_key": appKey})
	if code != http.StatusOK {
		t.Fatalf("token: HTTP %d %v", code, out)
	}
	return out["access_token"].(string), out["expire_in"].(float64)
}

func TestTokenRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	first, exp := e.v2Token(t, "/v2/request/token")
	if exp != 1800 {
		t.Fatalf("expire_in = %v, want 1800", exp)
	}
	again, _ := e.v2Token(t, "/v2/request/token.json")
	if again != first {
		t.Fatal("a token request within 25 minutes minted a new token")
	}
	e.sb.Advance(20 * time.Minute)
	again, exp = e.v2Token(t, "/v2/request/token")
	if again != first || exp != 600 {
		t.Fatalf("at 20 min: same=%v expire_in=%v, want same token with 600 s left", again == first, exp)
	}
	e.sb.Advance(6 * time.Minute)
	fresh, _ := e.v2Token(t, "/v2/request/token")
	if fresh == first {
		t.Fatal("no new token after 25 minutes")
	}
	if code, _ := e.do(t, http.MethodGet, "/v2/receipt/x", "Bearer "+first, nil); code != http.StatusNotFound {
		t.Fatalf("old token at 26 min: HTTP %d, want it still valid (404 for the receipt)", code)
	}
	e.sb.Advance(5 * time.Minute)
	code, out := e.do(t, http.MethodGet, "/v2/receipt/x", "Bearer "+first, nil)
	if code != http.StatusUnauthorized || out["error_code"] == nil {
		t.Fatalf("expired token: HTTP %d %v, want 401 with error_code", code, out)
	}
	if code, _ := e.do(t, http.MethodGet, "/v2/receipt/x", fresh, nil); code != http.StatusUnauthorized {
		t.Fatalf("v2 without Bearer: HTTP %d, want 401", code)
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(appID+":"+appKey))
	if code, _ := e.do(t, http.MethodGet, "/v2/receipt/x", basic, nil); code != http.StatusNotFound {
		t.Fatalf("v2 key-pair Basic auth: HTTP %d, want 404 for the receipt", code)
	}
	if n := e.sb.TokenIssued(); n != 2 {
		t.Fatalf("TokenIssued = %d, want 2", n)
	}

	code, out = e.do(t, http.MethodPost, "/v2/request/token", "", map[string]any{"application_id": appID, "private_key": "nope"})
	if code != http.StatusUnauthorized || out["error_code"] == nil {
		t.Fatalf("bad key: HTTP %d %v", code, out)
	}
}

func TestV1EnvelopeAndBareToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	code, out := e.do(t, http.MethodPost, "/request/token.json", "", map[string]any{"application_id": appID, "private_key": appKey})
	if code != http.StatusOK || out["code"].(float64) != 0 || out["status"].(float64) != 200 {
		t.Fatalf("v1 token: HTTP %d %v", code, out)
	}
	data := out["data"].(map[string]any)
	tok := data["token"].(string)
	if data["expired_at"].(float64)-data["server_time"].(float64) != 1800 {
		t.Fatalf("v1 token data %v: want 30 minutes", data)
	}
	code, out = e.do(t, http.MethodGet, "/receipt/x", tok, nil)
	if code != http.StatusNotFound || out["code"].(float64) >= 0 || out["status"].(float64) != 404 {
		t.Fatalf("v1 unknown receipt: HTTP %d %v", code, out)
	}
	code, out = e.do(t, http.MethodGet, "/receipt/x", "Bearer "+tok, nil)
	if code != http.StatusUnauthorized || out["status"].(float64) != 401 {
		t.Fatalf("v1 with a Bearer scheme: HTTP %d %v, want 401 envelope", code, out)
	}
}

func TestWindowPageIsSelfContained(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	res, err := http.Get(e.srv.URL + prefix + "/sandbox/window")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	page, _ := io.ReadAll(res.Body)
	s := string(page)
	if res.StatusCode != http.StatusOK || !strings.Contains(s, `"window/certifications"`) || !strings.Contains(s, `"window/billing_keys"`) {
		t.Fatalf("window page: HTTP %d", res.StatusCode)
	}
	for _, bad := range []string{"src=", "href=", "http://", "https://", "@import"} {
		if strings.Contains(s, bad) {
			t.Fatalf("window page refers to an external asset (%s)", bad)
		}
	}
}

// hookSink counts deliveries and answers with ack.
type hookSink struct {
	srv   *httptest.Server
	calls atomic.Int32
	last  atomic.Value // string: content type + "\n" + body
}

func newSink(t testing.TB, ack func(n int32) (int, string)) *hookSink {
	h := &hookSink{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.last.Store(r.Header.Get("Content-Type") + "\n" + string(b))
		code, body := ack(h.calls.Add(1))
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// charge issues a key through the window and pays with it (v1 or v2).
func (e *env) charge(t testing.TB, v1 bool, price int, feedback string, extra map[string]any) {
	t.Helper()
	code, out := e.do(t, http.MethodPost, "/sandbox/window/billing_keys", "", map[string]any{"application_id": appID})
	if code != http.StatusOK {
		t.Fatalf("window: %d %v", code, out)
	}
	tok, _ := e.v2Token(t, "/v2/request/token")
	_, key := e.do(t, http.MethodGet, "/v2/subscribe/billing_key/"+out["receipt_id"].(string), "Bearer "+tok, nil)
	body := map[string]any{"billing_key": key["billing_key"], "order_id": fmt.Sprintf("o_%d_%d", price, time.Now().UnixNano()),
		"price": price, "feedback_url": feedback}
	path, auth := "/v2/subscribe/payment", "Bearer "+tok
	if v1 {
		body["item_name"], path, auth = "item", "/subscribe/billing", tok
	} else {
		body["order_name"] = "item"
	}
	for k, v := range extra {
		body[k] = v
	}
	if code, out := e.do(t, http.MethodPost, path, auth, body); code != http.StatusOK {
		t.Fatalf("charge: %d %v", code, out)
	}
}

func TestWebhookV1FormRetriedUntilOK(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	sink := newSink(t, func(n int32) (int, string) {
		if n == 1 {
			return http.StatusOK, "ok" // not the upper-case OK v1 wants
		}
		return http.StatusOK, "OK"
	})
	e.charge(t, true, 1000, sink.srv.URL, nil)
	eventually(t, "v1 webhook acknowledged", func() bool { return e.sb.WebhooksDelivered() == 1 })
	ct, body, _ := strings.Cut(sink.last.Load().(string), "\n")
	form, err := url.ParseQuery(body)
	if ct != "application/x-www-form-urlencoded" || err != nil || form.Get("status") != "1" || form.Get("receipt_id") == "" ||
		form.Get("payment_data[card_no]") == "" {
		t.Fatalf("v1 webhook %s %v", ct, form)
	}
	if sink.calls.Load() != 2 {
		t.Fatalf("deliveries = %d, want 2 (one retry)", sink.calls.Load())
	}
}

func TestWebhookV2WantsSuccessTrue(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	sink := newSink(t, func(n int32) (int, string) {
		if n == 1 {
			return http.StatusOK, "OK" // v2 wants {"success": true}
		}
		return http.StatusOK, `{"success":true}`
	})
	e.charge(t, false, 1000, sink.srv.URL, map[string]any{"metadata": map[string]any{"plan": "pro"}})
	eventually(t, "v2 webhook acknowledged", func() bool { return e.sb.WebhooksDelivered() == 1 })
	ct, body, _ := strings.Cut(sink.last.Load().(string), "\n")
	var hook map[string]any
	if err := json.Unmarshal([]byte(body), &hook); err != nil || ct != "application/json" ||
		hook["webhook_type"] != "PAYMENT_COMPLETED" || hook["status"].(float64) != 1 || hook["private_key"] != nil {
		t.Fatalf("v2 webhook %s %s", ct, body)
	}
}

func TestCloseAbandonsRetries(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	sink := newSink(t, func(int32) (int, string) { return http.StatusInternalServerError, "" })
	e.charge(t, false, 1000, sink.srv.URL, nil)
	eventually(t, "a first attempt", func() bool { return sink.calls.Load() >= 1 })
	start := time.Now()
	e.sb.Close()
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Close took %v", d)
	}
	n := sink.calls.Load()
	time.Sleep(500 * time.Millisecond) // past the first back-off
	if sink.calls.Load() != n {
		t.Fatal("webhooks still sent after Close")
	}
}

// A lost-reply charge (price ending in 5) is recorded even though the
// client gave up, and the held reply ends when it does.
func TestLostReplyRespectsCancellation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{SlowReply: time.Minute})
	tok, _ := e.v2Token(t, "/v2/request/token")
	_, out := e.do(t, http.MethodPost, "/sandbox/window/billing_keys", "", map[string]any{"application_id": appID})
	_, key := e.do(t, http.MethodGet, "/v2/subscribe/billing_key/"+out["receipt_id"].(string), "Bearer "+tok, nil)
	b, _ := json.Marshal(map[string]any{"billing_key": key["billing_key"], "order_id": "o_lost", "order_name": "x", "price": 1005})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.srv.URL+prefix+"/v2/subscribe/payment", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+tok)
	start := time.Now()
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("lost-reply charge answered")
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("hold did not end with the request")
	}
	if e.sb.PaidCount(appID, "o_lost") != 1 {
		t.Fatal("lost-reply charge not recorded as paid")
	}
}

func BenchmarkChargeV2(b *testing.B) {
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	sb := sandbox.New(sandbox.Options{Now: func() time.Time { return start }})
	defer sb.Close()
	sb.AddAccount(appID, appKey)
	rec := httptest.NewRecorder()
	sb.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/sandbox/window/billing_keys", strings.NewReader(`{"application_id":"`+appID+`"}`)))
	var w struct {
		ReceiptID string `json:"receipt_id"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &w)
	rec = httptest.NewRecorder()
	sb.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v2/request/token", strings.NewReader(`{"application_id":"`+appID+`","private_key":"`+appKey+`"}`)))
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &tok)
	req := httptest.NewRequest(http.MethodGet, "/v2/subscribe/billing_key/"+w.ReceiptID, nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	rec = httptest.NewRecorder()
	sb.ServeHTTP(rec, req)
	var key struct {
		BillingKey string `json:"billing_key"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &key)
	var n atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := fmt.Sprintf(`{"billing_key":%q,"order_id":"o%d","order_name":"x","price":1000}`, key.BillingKey, n.Add(1))
			req := httptest.NewRequest(http.MethodPost, "/v2/subscribe/payment", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			rec := httptest.NewRecorder()
			sb.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("HTTP %d %s", rec.Code, rec.Body)
			}
		}
	})
}

func TestLatencyDelaysAPIReplies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{Latency: 150 * time.Millisecond})
	start := time.Now()
	e.v2Token(t, "/v2/request/token")
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("token reply after %v, want ≥ 150ms", d)
	}
}
