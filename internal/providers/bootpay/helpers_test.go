package bootpay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/providers"
	"github.com/billingd/billingd/internal/providers/bootpay"
	"github.com/billingd/billingd/internal/providers/bootpay/sandbox"
)

const (
	testAppID = "5b8f6a4d396fa665fdc2b5ea"
	testKey   = "sandbox-private-key-do-not-leak="
	mount     = "/sandbox/bootpay"
)

var versions = []string{bootpay.V1, bootpay.V2}

// clock is a settable clock for the client and the sandbox.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.FixedZone("KST", 9*3600))}
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// bundle is one sandbox Bootpay mounted under a prefix, the way billingd
// mounts it, and an adapter Client of one API generation talking to it.
type bundle struct {
	version     string
	sb          *sandbox.Server
	srv         *httptest.Server
	client      *bootpay.Client
	clientClock *clock
}

type setupOpts struct {
	sandbox sandbox.Options
	config  func(*bootpay.Config)
}

func setup(t testing.TB, version string, opt ...func(*setupOpts)) *bundle {
	t.Helper()
	o := setupOpts{sandbox: sandbox.Options{Now: newClock().Now}}
	for _, f := range opt {
		f(&o)
	}
	sb := sandbox.New(o.sandbox)
	sb.AddAccount(testAppID, testKey)
	mux := http.NewServeMux()
	mux.Handle(mount+"/", http.StripPrefix(mount, sb))
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); sb.Close() })
	b := &bundle{version: version, sb: sb, srv: srv, clientClock: newClock()}
	b.client = b.newClient(t, o.config)
	return b
}

func (b *bundle) baseURL() string {
	if b.version == bootpay.V1 {
		return b.srv.URL + mount
	}
	return b.srv.URL + mount + "/v2"
}

func (b *bundle) newClient(t testing.TB, f func(*bootpay.Config)) *bootpay.Client {
	t.Helper()
	cfg := bootpay.Config{BaseURL: b.baseURL(), APIVersion: b.version, ApplicationID: testAppID, PrivateKey: testKey,
		Now: b.clientClock.Now}
	if f != nil {
		f(&cfg)
	}
	c, err := bootpay.New(cfg)
	if err != nil {
		t.Fatalf("bootpay.New: %v", err)
	}
	return c
}

// withTimeout gives the client a short total timeout.
func withTimeout(d time.Duration) func(*setupOpts) {
	return func(o *setupOpts) {
		prev := o.config
		o.config = func(c *bootpay.Config) {
			if prev != nil {
				prev(c)
			}
			c.HTTPClient = &http.Client{Timeout: d}
		}
	}
}

// window posts to a sandbox window endpoint and returns the receipt_id.
func (b *bundle) window(t testing.TB, path string, body map[string]any) string {
	t.Helper()
	body["application_id"] = testAppID
	raw, _ := json.Marshal(body)
	res, err := http.Post(b.srv.URL+mount+"/sandbox/window/"+path, "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("window %s: %v", path, err)
	}
	defer res.Body.Close()
	var out struct {
		ReceiptID string `json:"receipt_id"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusOK || out.ReceiptID == "" {
		t.Fatalf("window %s: HTTP %d, %v", path, res.StatusCode, err)
	}
	return out.ReceiptID
}

// requireKey returns an issued billing key: window + verify on v2, REST
// issuance on v1 (v1 has no lookup).
func (b *bundle) requireKey(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	if b.version == bootpay.V1 {
		k, err := b.client.IssueBillingKey(ctx, providers.IssueBillingKeyRequest{Key: "sub_" + t.Name(), PG: "nicepay",
			OrderName: "정기결제", Card: providers.CardData{Number: "5570420400001074", Expiry: "2030-12", Birth: "900104", Password2: "12"}})
		if err != nil {
			t.Fatalf("IssueBillingKey: %v", err)
		}
		return k.Key
	}
	rid := b.window(t, "billing_keys", map[string]any{"pg": "nicepay"})
	k, err := b.client.VerifyBillingKey(ctx, providers.VerifyBillingKeyRequest{ReceiptID: rid})
	if err != nil {
		t.Fatalf("VerifyBillingKey: %v", err)
	}
	return k.Key
}

// receiver is a merchant webhook endpoint answering as Bootpay expects.
type receiver struct {
	srv   *httptest.Server
	hooks chan hook
	fails atomic.Int32 // answer wrongly this many times first
}

type hook struct {
	contentType string
	body        []byte
}

func newReceiver(t testing.TB, version string) *receiver {
	t.Helper()
	r := &receiver{hooks: make(chan hook, 64)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if r.fails.Add(-1) >= 0 {
			http.Error(w, "not now", http.StatusServiceUnavailable)
			return
		}
		r.hooks <- hook{contentType: req.Header.Get("Content-Type"), body: body}
		if version == bootpay.V1 {
			_, _ = io.WriteString(w, "OK")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"success":true}`)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// next waits for a webhook about orderID.
func (r *receiver) next(t testing.TB, orderID string) bootpay.Webhook {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case h := <-r.hooks:
			w, err := bootpay.ParseWebhook(h.contentType, h.body)
			if err != nil {
				t.Fatalf("ParseWebhook: %v", err)
			}
			if w.OrderID == orderID {
				return w
			}
		case <-deadline:
			t.Fatalf("no webhook for order %s", orderID)
		}
	}
}

func requireKind(t testing.TB, err, kind error) *providers.Error {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("error = %v, want kind %v", err, kind)
	}
	pe, ok := providers.AsError(err)
	if !ok || pe.Provider != providers.Bootpay || pe.Op == "" {
		t.Fatalf("error %v is not a bootpay *providers.Error with an Op", err)
	}
	return pe
}

// requireNoSecrets fails if any secret shows in s.
func requireNoSecrets(t testing.TB, s string, secrets ...string) {
	t.Helper()
	for _, sec := range append(secrets, testKey) {
		if sec != "" && strings.Contains(s, sec) {
			t.Fatalf("%q leaks a secret", s)
		}
	}
}
