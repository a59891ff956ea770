package iamport_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/providers"
	"github.com/billingd/billingd/internal/providers/iamport"
	"github.com/billingd/billingd/internal/providers/iamport/sandbox"
)

const (
	testKey    = "imp_apikey_test"
	testSecret = "s3cr3t-imp-secret-0123456789abcdef"
)

// fakeClock is a settable clock shared by the adapter and the sandbox.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testBundle is a sandbox on a real HTTP server and an adapter pointed at it.
type testBundle struct {
	sb     *sandbox.Server
	url    string
	client *iamport.Client
	clock  *fakeClock
}

type bundleOptions struct {
	httpClient    *http.Client
	webhookFormat string
	// skew is added to the adapter's clock: its idea of "now" is wrong by
	// this much, the sandbox's is right.
	skew time.Duration
	// live builds the client for a live-mode account (no test channel).
	live bool
}

func setup(t testing.TB) *testBundle { return setupWith(t, bundleOptions{}) }

func setupWith(t testing.TB, o bundleOptions) *testBundle {
	t.Helper()
	clock := newFakeClock()
	sb := sandbox.New(sandbox.Options{Now: clock.Now, WebhookFormat: o.webhookFormat})
	sb.AddAccount(testKey, testSecret)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	t.Cleanup(sb.Close) // runs first: webhooks in flight finish before the server goes
	local := clock.Now
	if o.skew != 0 {
		local = func() time.Time { return clock.Now().Add(o.skew) }
	}
	c, err := iamport.New(iamport.Config{BaseURL: srv.URL, ImpKey: testKey, ImpSecret: testSecret, HTTPClient: o.httpClient, Now: local,
		TestMode: !o.live})
	if err != nil {
		t.Fatal(err)
	}
	return &testBundle{sb: sb, url: srv.URL, client: c, clock: clock}
}

// windowKey registers a billing key through the simulated payment window,
// which needs no access token.
func (b *testBundle) windowKey(t testing.TB, uid, pg, payMethod string, extra map[string]string) (int, map[string]any) {
	t.Helper()
	body := map[string]string{"imp_key": testKey, "customer_uid": uid, "pg": pg, "pay_method": payMethod}
	for k, v := range extra {
		body[k] = v
	}
	raw, _ := json.Marshal(body)
	resp, err := http.Post(b.url+"/sandbox/window/billing_keys", "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

// mustWindowKey registers a PAYCO key (card) and fails the test otherwise.
func (b *testBundle) mustWindowKey(t testing.TB, uid string) {
	t.Helper()
	if status, out := b.windowKey(t, uid, "payco", "card", nil); status != http.StatusOK {
		t.Fatalf("window registration: %d %v", status, out)
	}
}

// rawToken fetches the account's current access token straight from the
// sandbox (Iamport hands back the same token while it is valid).
func (b *testBundle) rawToken(t testing.TB) string {
	t.Helper()
	resp, err := http.PostForm(b.url+"/users/getToken", url.Values{"imp_key": {testKey}, "imp_secret": {testSecret}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var env struct {
		Response struct {
			AccessToken string `json:"access_token"`
		} `json:"response"`
	}
	if err := json.Unmarshal(raw, &env); err != nil || env.Response.AccessToken == "" {
		t.Fatalf("getToken: %s", raw)
	}
	return env.Response.AccessToken
}

// requireKind asserts err is a *providers.Error of kind want from iamport.
func requireKind(t testing.TB, err, want error) *providers.Error {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want kind %v", err, want)
	}
	pe, ok := providers.AsError(err)
	if !ok || pe.Provider != providers.Iamport || pe.Op == "" {
		t.Fatalf("error %v is not an iamport *providers.Error with an Op", err)
	}
	return pe
}

// paidCount counts the paid attempts the sandbox holds for an order.
func paidCount(sb *sandbox.Server, orderID string) int {
	n := 0
	for _, p := range sb.PaymentsByOrder(orderID) {
		if p.Status == "paid" || p.Status == "cancelled" {
			n++
		}
	}
	return n
}
