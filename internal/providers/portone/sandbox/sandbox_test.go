package sandbox_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/billingd/billingd/internal/providers/portone/sandbox"
)

const (
	secret  = "sandbox-test-secret-0123456789"
	storeID = "store-sandbox-test"
	channel = "channel-key-sandbox-test"
)

var hookSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("sandbox-webhook-secret-0123456789"))

type bundle struct {
	sb  *sandbox.Server
	url string
	now time.Time
}

func setup(t *testing.T, hookURL string) *bundle {
	t.Helper()
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	sb := sandbox.New(sandbox.Options{Now: func() time.Time { return now }})
	sb.AddAccount(sandbox.Account{APISecret: secret, StoreID: storeID, WebhookSecret: hookSecret, WebhookURL: hookURL})
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	t.Cleanup(sb.Close)
	return &bundle{sb: sb, url: srv.URL, now: now}
}

// do sends a request the way a plain client would: JSON as text/plain, as
// PortOne's JS SDK does.
func (b *bundle) do(t *testing.T, method, path, auth string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, b.url+path, rd)
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (b *bundle) key(t *testing.T) string {
	t.Helper()
	status, out := b.do(t, http.MethodPost, "/sandbox/window/billing_keys", "", map[string]any{"storeId": storeID,
		"channelKey": channel, "billingKeyMethod": "CARD", "issueId": "iss_1", "customer": map[string]any{"customerId": "c1"}})
	if status != http.StatusOK {
		t.Fatalf("window: %d %v", status, out)
	}
	return out["billingKey"].(string)
}

const auth = "PortOne " + secret

func TestAuthAndStore(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	for _, a := range []string{"", "PortOne wrong-secret", "Bearer " + secret, secret} {
		if status, out := b.do(t, http.MethodGet, "/payments/pay_1", a, nil); status != http.StatusUnauthorized || out["type"] != "UNAUTHORIZED" {
			t.Errorf("Authorization %q: %d %v", a, status, out)
		}
	}
	if status, out := b.do(t, http.MethodGet, "/payments/pay_1?storeId=store-other", auth, nil); status != http.StatusForbidden || out["type"] != "FORBIDDEN" {
		t.Errorf("other store: %d %v", status, out)
	}
	if status, out := b.do(t, http.MethodGet, "/payments/pay_1?storeId="+storeID, auth, nil); status != http.StatusNotFound || out["type"] != "PAYMENT_NOT_FOUND" {
		t.Errorf("own store: %d %v", status, out)
	}
}

func TestChargeValidation(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	key := b.key(t)
	cases := []struct {
		name   string
		body   map[string]any
		status int
		typ    string
	}{
		{"NoOrderName", map[string]any{"billingKey": key, "amount": map[string]any{"total": 1000}, "currency": "KRW"}, 400, "INVALID_REQUEST"},
		{"FractionalAmount", map[string]any{"billingKey": key, "orderName": "x", "amount": map[string]any{"total": 1000.5}, "currency": "KRW"}, 400, "INVALID_REQUEST"},
		{"BrowserCurrency", map[string]any{"billingKey": key, "orderName": "x", "amount": map[string]any{"total": 1000}, "currency": "CURRENCY_KRW"}, 400, "INVALID_REQUEST"},
		{"PartsOverTotal", map[string]any{"billingKey": key, "orderName": "x", "amount": map[string]any{"total": 1000, "taxFree": 600, "vat": 500}, "currency": "KRW"}, 409, "SUM_OF_PARTS_EXCEEDS_TOTAL_AMOUNT"},
		{"UnknownKey", map[string]any{"billingKey": "billing-key-x", "orderName": "x", "amount": map[string]any{"total": 1000}, "currency": "KRW"}, 404, "BILLING_KEY_NOT_FOUND"},
	}
	for _, tc := range cases {
		if status, out := b.do(t, http.MethodPost, "/payments/pay_v/billing-key", auth, tc.body); status != tc.status || out["type"] != tc.typ {
			t.Errorf("%s: %d %v, want %d %s", tc.name, status, out, tc.status, tc.typ)
		}
	}
	if len(b.sb.Attempts("pay_v")) != 0 {
		t.Fatal("a refused charge was recorded")
	}
	// Path parameters are percent-decoded.
	status, _ := b.do(t, http.MethodPost, "/payments/pay%2Fslash/billing-key", auth, map[string]any{"billingKey": key, "orderName": "x",
		"amount": map[string]any{"total": 1000}, "currency": "KRW"})
	if status != http.StatusOK || len(b.sb.Attempts("pay/slash")) != 1 {
		t.Fatalf("encoded payment id: %d", status)
	}
}

// TestSchedulesListAndRevoke: the list hides future schedules unless until
// is set; billingKey alone revokes all of the key's; a key with schedules
// cannot be deleted.
func TestSchedulesListAndRevoke(t *testing.T) {
	t.Parallel()
	b := setup(t, "")
	key := b.key(t)
	for _, id := range []string{"pay_a", "pay_b"} {
		status, out := b.do(t, http.MethodPost, "/payments/"+id+"/schedule", auth, map[string]any{"timeToPay": b.now.Add(48 * time.Hour).Format(time.RFC3339),
			"payment": map[string]any{"billingKey": key, "orderName": "x", "amount": map[string]any{"total": 1000}, "currency": "KRW"}})
		if status != http.StatusOK {
			t.Fatalf("schedule: %d %v", status, out)
		}
	}
	list := func(filter map[string]any) float64 {
		q, _ := json.Marshal(map[string]any{"filter": filter})
		status, out := b.do(t, http.MethodGet, "/payment-schedules?requestBody="+url.QueryEscape(string(q)), auth, nil)
		if status != http.StatusOK {
			t.Fatalf("list: %d %v", status, out)
		}
		return out["page"].(map[string]any)["totalCount"].(float64)
	}
	if n := list(map[string]any{"billingKey": key}); n != 0 {
		t.Fatalf("default window shows %v future schedules", n)
	}
	if n := list(map[string]any{"billingKey": key, "until": b.now.Add(72 * time.Hour).Format(time.RFC3339)}); n != 2 {
		t.Fatalf("with until: %v", n)
	}
	if status, out := b.do(t, http.MethodDelete, "/billing-keys/"+key, auth, nil); status != http.StatusConflict || out["type"] != "PAYMENT_SCHEDULE_ALREADY_EXISTS" {
		t.Fatalf("delete with schedules: %d %v", status, out)
	}
	status, out := b.do(t, http.MethodDelete, "/payment-schedules", auth, map[string]any{"billingKey": key})
	if ids, _ := out["revokedScheduleIds"].([]any); status != http.StatusOK || len(ids) != 2 {
		t.Fatalf("revoke by key: %d %v", status, out)
	}
	if status, out := b.do(t, http.MethodDelete, "/billing-keys/"+key, auth, nil); status != http.StatusOK || out["deletedAt"] == nil {
		t.Fatalf("delete: %d %v", status, out)
	}
	status, out = b.do(t, http.MethodPost, "/payments/pay_c/billing-key", auth, map[string]any{"billingKey": key, "orderName": "x",
		"amount": map[string]any{"total": 1000}, "currency": "KRW"})
	if status != http.StatusConflict || out["type"] != "BILLING_KEY_ALREADY_DELETED" {
		t.Fatalf("charge a deleted key: %d %v", status, out)
	}
}

// TestWebhooksSigned checks the sandbox's signature with the Standard
// Webhooks reference library, not with billingd's own verifier.
func TestWebhooksSigned(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var bodies []string
	var verr []error
	wh, err := standardwebhooks.NewWebhook(hookSecret)
	if err != nil {
		t.Fatal(err)
	}
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		// The library's Verify judges the timestamp by the real clock; the
		// sandbox signs on its own. So: the timestamp must be the sandbox's,
		// and the signature what the library computes for it.
		at := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
		if ts := r.Header.Get("webhook-timestamp"); ts != strconv.FormatInt(at.Unix(), 10) {
			verr = append(verr, fmt.Errorf("webhook-timestamp %s", ts))
		}
		want, _ := wh.Sign(r.Header.Get("webhook-id"), at, body)
		if got := r.Header.Get("webhook-signature"); got != want || !strings.HasPrefix(r.Header.Get("webhook-id"), "msg_") {
			verr = append(verr, fmt.Errorf("webhook-signature %q, library says %q", got, want))
		}
		bodies = append(bodies, string(body))
	}))
	t.Cleanup(hook.Close)
	b := setup(t, hook.URL)
	key := b.key(t)
	b.do(t, http.MethodPost, "/payments/pay_w/billing-key", auth, map[string]any{"billingKey": key, "orderName": "x",
		"amount": map[string]any{"total": 1000}, "currency": "KRW"})
	b.sb.Close()
	mu.Lock()
	defer mu.Unlock()
	if len(verr) != 0 || len(bodies) != 2 {
		t.Fatalf("webhooks: %v, errors %v", bodies, verr)
	}
	paid := bodies[0] // delivered concurrently: either order
	if !strings.Contains(paid, "Transaction.Paid") {
		paid = bodies[1]
	}
	if !strings.Contains(paid, `"type":"Transaction.Paid"`) || !strings.Contains(paid, `"paymentId":"pay_w"`) ||
		!strings.Contains(paid, `"timestamp":"2026-12-02T09:00:00.000Z"`) {
		t.Fatalf("paid webhook body: %s", paid)
	}
}
