package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/rs/zerolog"

	"github.com/billingd/billingd/internal/admin"
	"github.com/billingd/billingd/internal/api"
	"github.com/billingd/billingd/internal/clock"
	"github.com/billingd/billingd/internal/console"
	"github.com/billingd/billingd/internal/gateways"
	"github.com/billingd/billingd/internal/identity"
	"github.com/billingd/billingd/internal/jobs"
	"github.com/billingd/billingd/internal/logtest"
	"github.com/billingd/billingd/internal/metrics"
	"github.com/billingd/billingd/internal/payments"
	iamportsandbox "github.com/billingd/billingd/internal/providers/iamport/sandbox"
	"github.com/billingd/billingd/internal/providers/sandbox"
	"github.com/billingd/billingd/internal/store"
	"github.com/billingd/billingd/internal/store/storetest"
	"github.com/billingd/billingd/internal/subscriptions"
	"github.com/billingd/billingd/internal/webhooks"
)

const adminToken = "console-test-admin-token-0123456789"

// testBundle is billingd as `billingd dev` runs it, console included, with
// one merchant that has made a payment through the API.
type testBundle struct {
	url        string
	store      *store.Store
	merchantID string
	secret     string
	impKey     string
	customer   string
	key        string // an active billing key
	payment    map[string]any
	received   atomic.Int64 // webhooks the merchant's receiver got
}

var impCounter atomic.Int64

func setup(t *testing.T) *testBundle { return setupWith(t, 100) }

// setupWith takes the sign-in rate limit: tests sign in often from one
// address.
func setupWith(t *testing.T, loginsPerMinute int) *testBundle {
	t.Helper()
	ctx := context.Background()
	st := storetest.NewStore(t)
	log := zerolog.New(&logtest.Buffer{})
	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	clk := clock.New()
	sb := sandbox.New(sandbox.Options{Now: clk.TestNow})
	t.Cleanup(sb.Close)
	m := metrics.New()
	gw := gateways.New(gateways.Options{SandboxURL: srv.URL + "/sandbox", Sandbox: sb, Metrics: m})
	guard := webhooks.Guard{AllowPrivate: true}
	deps := &jobs.Deps{Store: st, Webhooks: webhooks.New(webhooks.Options{Store: st, Guard: guard, Metrics: m, Logger: log})}
	queue, err := jobs.NewClient(st.Pool(), deps, jobs.Options{Logger: log, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	st.SetDeliveryEnqueuer(jobs.Enqueuer(queue))
	pay := payments.New(payments.Options{Store: st, Gateways: gw, Queue: queue, PublicBaseURL: srv.URL, Clock: clk, Logger: log})
	subs := subscriptions.New(subscriptions.Options{Store: st, Payments: pay, Clock: clk, Logger: log})
	deps.Payments, deps.Subscriptions = pay, subs
	if err := queue.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = queue.Stop(ctx)
	})
	adm := admin.New(st, srv.URL)
	var apiServer *api.Server
	con, err := console.New(console.Options{Store: st, Admin: adm, Payments: pay, Subscriptions: subs, AdminToken: adminToken,
		Logger: log, LoginsPerMinute: loginsPerMinute, KeyRevoked: func(id string) { apiServer.ForgetAPIKey(id) }})
	if err != nil {
		t.Fatal(err)
	}
	// Keys are cached as in production: a revocation must reach the cache.
	apiServer = api.New(api.Options{APIKeyCacheTTL: time.Hour,
		Store: st, Admin: adm, Gateways: gw, Payments: pay, Subscriptions: subs, Console: con,
		Identity: identity.New(identity.Options{Store: st, Gateways: gw, Now: clk.Now}),
		Sandbox:  sb, Logger: log, MaxBodyBytes: 64 << 10, Metrics: m, WebhookGuard: guard, AdminToken: adminToken,
	})
	handler = apiServer

	b := &testBundle{url: srv.URL, store: st, impKey: fmt.Sprintf("imp_console_%d", impCounter.Add(1))}
	mer := b.call(t, adminToken, "POST", "/admin/v1/merchants", "", map[string]any{"name": "Console Shop"}, http.StatusCreated)
	b.merchantID = mer["id"].(string)
	b.secret = b.call(t, adminToken, "POST", "/admin/v1/merchants/"+b.merchantID+"/keys", "", map[string]any{"kind": "secret", "mode": "test"}, http.StatusCreated)["key"].(string)
	b.call(t, adminToken, "POST", "/admin/v1/merchants/"+b.merchantID+"/provider_accounts", "", map[string]any{
		"provider": "iamport", "mode": "test",
		"credentials": map[string]any{"imp_key": b.impKey, "imp_secret": "imp-secret-" + b.impKey},
		"settings":    map[string]any{"imp_code": iamportsandbox.MerchantCode(b.impKey), "default_pg": "payco"}}, http.StatusCreated)
	sb.Register("iamport", map[string]string{"imp_key": b.impKey, "imp_secret": "imp-secret-" + b.impKey})

	// The merchant's webhook receiver: deliveries succeed.
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { b.received.Add(1) }))
	t.Cleanup(receiver.Close)
	b.call(t, b.secret, "POST", "/v1/webhook_endpoints", "", map[string]any{"url": receiver.URL + "/hooks", "enabled_events": []string{"*"}}, http.StatusCreated)

	b.customer = b.call(t, b.secret, "POST", "/v1/customers", "", map[string]any{"external_id": "user-1", "name": "홍길동", "email": "hong@example.com"}, http.StatusCreated)["id"].(string)
	b.key = b.activeKey(t)
	b.payment = b.call(t, b.secret, "POST", "/v1/payments", "pay-1", map[string]any{"billing_key_id": b.key, "amount": 9900, "order_name": "월간 구독 12월"}, http.StatusCreated)
	_ = ctx
	return b
}

// call makes an API request and checks its status.
func (b *testBundle) call(t *testing.T, token, method, path, idem string, body any, want int) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, b.url+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: HTTP %d (want %d) %s", method, path, resp.StatusCode, want, raw)
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return out
}

// activeKey registers a PAYCO key through the sandbox window and confirms it.
func (b *testBundle) activeKey(t *testing.T) string {
	t.Helper()
	reg := b.call(t, b.secret, "POST", "/v1/billing_keys", "", map[string]any{"customer_id": b.customer, "provider": "iamport", "pg": "payco"}, http.StatusCreated)
	form := map[string]any{"imp_key": b.impKey}
	for k, v := range reg["client_params"].(map[string]any) {
		form[k] = v
	}
	raw, _ := json.Marshal(form)
	resp, err := http.Post(b.url+"/sandbox/iamport/sandbox/window/billing_keys", "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("window answered %d", resp.StatusCode)
	}
	id := reg["id"].(string)
	b.call(t, b.secret, "POST", "/v1/billing_keys/"+id+"/confirm", "", nil, http.StatusOK)
	return id
}

// auditActions lists the actions of the audit rows matching query.
func (b *testBundle) auditActions(t *testing.T, query string) []map[string]any {
	t.Helper()
	out := b.call(t, adminToken, "GET", "/admin/v1/audit_events?limit=100&"+query, "", nil, http.StatusOK)
	var rows []map[string]any
	for _, e := range out["data"].([]any) {
		rows = append(rows, e.(map[string]any))
	}
	return rows
}

// --- browser helpers ---

func run(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(c, steps...); err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''"))
		t.Fatalf("browser: %v; page: %s", err, strings.TrimSpace(body))
	}
}

// text is the page's visible text.
func text(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body.innerText"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func requireText(t *testing.T, ctx context.Context, want ...string) {
	t.Helper()
	got := text(t, ctx)
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Fatalf("the page lacks %q; it reads:\n%s", w, got)
		}
	}
}

// click clicks a selector, then waits for what the next page shows. The
// click and the wait are JavaScript polled from Go: a page that replaces
// itself can leave a DOM query waiting on the old document.
func click(t *testing.T, ctx context.Context, sel, next string) {
	t.Helper()
	js, _ := json.Marshal(sel)
	// Mark the current document, so the wait sees the next one.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(document.documentElement.dataset.old = "1", document.querySelector(`+string(js)+`).click(), true)`)); err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''"))
		t.Fatalf("click %s: %v; page: %s", sel, err, body)
	}
	waitFor(t, ctx, next, true)
}

// waitFor polls until a selector matches in a document loaded after the
// last click (fresh) or in any.
func waitFor(t *testing.T, ctx context.Context, sel string, fresh bool) {
	t.Helper()
	js, _ := json.Marshal(sel)
	expr := `document.readyState === "complete" && !!document.querySelector(` + string(js) + `)`
	if fresh {
		expr += ` && !document.documentElement.dataset.old`
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			body, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''"))
			t.Fatalf("timed out waiting for %s (err=%v); page: %s", sel, err, strings.TrimSpace(body))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// open loads a console path and waits for a selector.
func (b *testBundle) open(t *testing.T, ctx context.Context, path, next string) {
	t.Helper()
	run(t, ctx, chromedp.Navigate(b.url+path))
	waitFor(t, ctx, next, false)
}

// login signs in through the form.
func (b *testBundle) login(t *testing.T, ctx context.Context, operator string) {
	t.Helper()
	run(t, ctx, chromedp.Navigate(b.url+"/console/"),
		chromedp.SetValue(chromedp.CSS("#operator-name"), operator), chromedp.SetValue(chromedp.CSS("#token"), adminToken))
	click(t, ctx, "#login button", "#attention-unknown")
}

// reload loads the page again.
func reload(t *testing.T, ctx context.Context, next string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(document.documentElement.dataset.old = "1", location.reload(), true)`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, next, true)
}
