package demo_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"

	"github.com/billingd/billingd/internal/admin"
	"github.com/billingd/billingd/internal/api"
	"github.com/billingd/billingd/internal/clock"
	"github.com/billingd/billingd/internal/demo"
	"github.com/billingd/billingd/internal/gateways"
	"github.com/billingd/billingd/internal/identity"
	"github.com/billingd/billingd/internal/jobs"
	"github.com/billingd/billingd/internal/logtest"
	"github.com/billingd/billingd/internal/metrics"
	"github.com/billingd/billingd/internal/payments"
	iamportsandbox "github.com/billingd/billingd/internal/providers/iamport/sandbox"
	"github.com/billingd/billingd/internal/providers/sandbox"
	"github.com/billingd/billingd/internal/store/storetest"
	"github.com/billingd/billingd/internal/subscriptions"
	"github.com/billingd/billingd/internal/webhooks"
)

// testBundle is billingd in test mode as `billingd dev` runs it: the API,
// the sandbox PGs under /sandbox and the demo at /sandbox/demo, for one
// merchant with a test account at each PG.
type testBundle struct {
	url          string // billingd's API, as its backend and the browser's API calls reach it
	pageURL      string // the same server under another origin, where the tab loads the demo
	secret       string
	sandbox      *sandbox.Set
	impKey       string
	bootpayAppID string
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	ctx := context.Background()
	st := storetest.NewStore(t)
	logs := &logtest.Buffer{}
	log := zerolog.New(logs)
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

	adm := admin.New(st, srv.URL)
	merchant, err := adm.CreateMerchant(ctx, "Demo Shop")
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := adm.CreateAPIKey(ctx, merchant.ID, "secret", "test")
	if err != nil {
		t.Fatal(err)
	}
	_, publishable, err := adm.CreateAPIKey(ctx, merchant.ID, "publishable", "test")
	if err != nil {
		t.Fatal(err)
	}
	b := &testBundle{url: srv.URL, secret: secret, sandbox: sb, impKey: "imp_key_demo", bootpayAppID: "bootpay_app_demo"}
	for _, in := range []admin.ProviderAccountInput{
		{Provider: "iamport", Mode: "test",
			Credentials: map[string]string{"imp_key": b.impKey, "imp_secret": "imp-secret-demo"},
			Settings:    map[string]any{"imp_code": iamportsandbox.MerchantCode(b.impKey)}},
		{Provider: "bootpay", Mode: "test",
			Credentials: map[string]string{"application_id": b.bootpayAppID, "private_key": "bootpay-private-demo"},
			Settings:    map[string]any{"client_application_id": b.bootpayAppID}},
		{Provider: "portone", Mode: "test",
			Credentials: map[string]string{"api_secret": "portone-secret-demo", "webhook_secret": "whsec_ZGVtby13ZWJob29rLXNlY3JldA=="},
			Settings:    map[string]any{"store_id": "store-demo", "channel_key": "channel-key-demo"}},
	} {
		if _, err := adm.CreateProviderAccount(ctx, merchant.ID, in); err != nil {
			t.Fatal(err)
		}
	}
	// The page runs on another origin than the API (localhost vs
	// 127.0.0.1), as a merchant's frontend does: its calls to billingd go
	// through CORS.
	b.pageURL = strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	demoHandler, err := demo.New(demo.Options{APIBase: srv.URL, BrowserAPIBase: srv.URL, SecretKey: secret,
		PublishableKey: publishable, BootpayApplicationID: b.bootpayAppID})
	if err != nil {
		t.Fatal(err)
	}
	handler = api.New(api.Options{
		Store: st, Admin: adm, Gateways: gw, Payments: pay, Subscriptions: subs,
		Identity: identity.New(identity.Options{Store: st, Gateways: gw, Now: clk.Now}),
		Sandbox:  sb, Logger: log, MaxBodyBytes: 64 << 10, Metrics: m, WebhookGuard: guard,
		Mount: func(r chi.Router) { demo.Mount(r, demoHandler) },
	})
	// As billingd dev does: the accounts are known to the sandbox from the
	// start, not only once billingd has built a client for them.
	sb.Register("iamport", map[string]string{"imp_key": b.impKey, "imp_secret": "imp-secret-demo"})
	sb.Register("bootpay", map[string]string{"application_id": b.bootpayAppID, "private_key": "bootpay-private-demo"})
	sb.Register("portone", map[string]string{"api_secret": "portone-secret-demo", "webhook_secret": "whsec_ZGVtby13ZWJob29rLXNlY3JldA==", "store_id": "store-demo"})
	return b
}

// get reads an API object with the secret key: what billingd recorded.
func (b *testBundle) get(t *testing.T, path string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+b.secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d %s", path, resp.StatusCode, raw)
	}
	return out
}

// waitFor polls a JavaScript expression in the tab until it is true.
func waitFor(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			dump, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("status") ? document.getElementById("status").textContent + " " + document.getElementById("result").textContent : document.body.innerText`))
			t.Fatalf("timed out waiting for %s (%s); err=%v; page: %s", what, expr, err, strings.TrimSpace(dump))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
