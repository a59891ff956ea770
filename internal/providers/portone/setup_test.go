package portone_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/providers"
	"github.com/billingd/billingd/internal/providers/portone"
	"github.com/billingd/billingd/internal/providers/portone/sandbox"
)

const (
	testSecret  = "portone-api-secret-0123456789abcdefghij"
	testStore   = "store-4f1c3d2e-test"
	testChannel = "channel-key-9a8b7c6d-test"
)

// testBundle is a sandbox on a real HTTP server, an adapter pointed at it,
// and a receiver that verifies the sandbox's webhooks as billingd would.
type testBundle struct {
	sb     *sandbox.Server
	url    string
	client *portone.Client
	hooks  *receiver
}

type bundleOptions struct {
	httpClient *http.Client
	slowReply  time.Duration
}

func setup(t testing.TB) *testBundle { return setupWith(t, bundleOptions{}) }

func setupWith(t testing.TB, o bundleOptions) *testBundle {
	t.Helper()
	clock := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	sb := sandbox.New(sandbox.Options{Now: func() time.Time { return clock }, SlowReply: o.slowReply})
	rec := &receiver{sb: sb}
	hookSrv := httptest.NewServer(rec)
	sb.AddAccount(sandbox.Account{APISecret: testSecret, StoreID: testStore, WebhookSecret: hookSecret, WebhookURL: hookSrv.URL})
	srv := httptest.NewServer(sb)
	t.Cleanup(hookSrv.Close)
	t.Cleanup(srv.Close)
	t.Cleanup(sb.Close) // runs first: webhooks in flight finish before the servers go
	c, err := portone.New(portone.Config{BaseURL: srv.URL, APISecret: testSecret, StoreID: testStore, ChannelKey: testChannel,
		HTTPClient: o.httpClient, Now: sb.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &testBundle{sb: sb, url: srv.URL, client: c, hooks: rec}
}

// receiver verifies every webhook it gets with the adapter's VerifyWebhook
// on the sandbox clock, and keeps what they said.
type receiver struct {
	sb      *sandbox.Server
	mu      sync.Mutex
	got     []portone.Webhook
	refused []error
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	hook, err := portone.VerifyWebhook(req.Header, body, []string{hookSecret}, r.sb.Now())
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.refused = append(r.refused, err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.got = append(r.got, hook)
}

// received returns the verified webhooks of a type, after the sandbox has
// finished sending.
func (b *testBundle) received(typ string) []portone.Webhook {
	b.sb.Close()
	b.hooks.mu.Lock()
	defer b.hooks.mu.Unlock()
	var out []portone.Webhook
	for _, h := range b.hooks.got {
		if h.Type == typ {
			out = append(out, h)
		}
	}
	return out
}

// windowKey issues a key through the simulated requestIssueBillingKey.
func (b *testBundle) windowKey(t testing.TB, in map[string]any) (int, map[string]any) {
	t.Helper()
	body := map[string]any{"storeId": testStore, "channelKey": testChannel, "billingKeyMethod": "CARD"}
	for k, v := range in {
		body[k] = v
	}
	raw, _ := json.Marshal(body)
	resp, err := http.Post(b.url+"/sandbox/window/billing_keys", "text/plain", bytes.NewReader(raw))
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

// mustKey issues a key for registration issueID of customer cus.
func (b *testBundle) mustKey(t testing.TB, issueID, cus string) string {
	t.Helper()
	status, out := b.windowKey(t, map[string]any{"issueId": issueID, "customer": map[string]any{"customerId": cus, "fullName": "홍길동"}})
	key, _ := out["billingKey"].(string)
	if status != http.StatusOK || key == "" {
		t.Fatalf("window: %d %v", status, out)
	}
	return key
}

// requireKind asserts err is a portone *providers.Error of kind want.
func requireKind(t testing.TB, err, want error) *providers.Error {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want kind %v", err, want)
	}
	pe, ok := providers.AsError(err)
	if !ok || pe.Provider != providers.Portone || pe.Op == "" {
		t.Fatalf("error %v is not a portone *providers.Error with an Op", err)
	}
	return pe
}

// paidCount counts the attempts of a paymentId on which money moved.
func paidCount(sb *sandbox.Server, id string) int {
	n := 0
	for _, a := range sb.Attempts(id) {
		if a.Status != "FAILED" {
			n++
		}
	}
	return n
}
