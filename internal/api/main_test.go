package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/rs/zerolog"

	"github.com/billingd/billingd/internal/admin"
	"github.com/billingd/billingd/internal/clock"
	"github.com/billingd/billingd/internal/gateways"
	"github.com/billingd/billingd/internal/identity"
	"github.com/billingd/billingd/internal/jobs"
	"github.com/billingd/billingd/internal/logtest"
	"github.com/billingd/billingd/internal/metrics"
	"github.com/billingd/billingd/internal/payments"
	"github.com/billingd/billingd/internal/providers/sandbox"
	"github.com/billingd/billingd/internal/store"
	"github.com/billingd/billingd/internal/store/storetest"
	"github.com/billingd/billingd/internal/subscriptions"
	"github.com/billingd/billingd/internal/testclock"
	"github.com/billingd/billingd/internal/webhooks"
)

func TestMain(m *testing.M) { storetest.Main(m) }

const testAdminToken = "test-admin-token-0123456789abcdefghij"

// testBundle is a running billingd API on a fresh database, with a client
// whose every request and response is checked against openapi.yaml.
type testBundle struct {
	url           string
	store         *store.Store
	client        *http.Client
	logs          *logtest.Buffer
	sandbox       *sandbox.Set
	payments      *payments.Service
	gateways      *gateways.Gateways
	subscriptions *subscriptions.Service
	queue         *river.Client[pgx.Tx]
	metrics       *metrics.Metrics
}

type bundleOpts struct {
	maxBodyBytes int64
	rateLimit    int
	mount        func(chi.Router)
	noJobs       bool // do not run River workers (a test drives jobs itself)
	// webhookClient sends webhook deliveries (nil: webhooks.NewClient
	// with the guard lifted, so httptest receivers on loopback work).
	webhookClient *http.Client
	// apiKeyCacheTTL remembers authenticated keys (0: every request looks its key up).
	apiKeyCacheTTL time.Duration
	// PG webhook limits (webhook_limits.go, payments.NotificationLimits;
	// zero: the defaults), and the proxies whose X-Forwarded-For counts.
	webhookRateLimit   int
	webhookConcurrency int
	webhookSlotWait    time.Duration
	notificationLimits payments.NotificationLimits
	trustedProxies     []string
}

func setup(t testing.TB) *testBundle { return setupWith(t, bundleOpts{}) }

func setupWith(t testing.TB, o bundleOpts) *testBundle {
	t.Helper()
	st := storetest.NewStore(t)
	logs := &logtest.Buffer{}
	if o.maxBodyBytes == 0 {
		o.maxBodyBytes = 64 << 10
	}
	// The handler needs the server's URL (its sandbox lives there), and the
	// server needs the handler: start the server first, fill in the handler.
	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	clk := clock.New() // each bundle has its own test clock and sandbox
	sb := sandbox.New(sandbox.Options{Now: clk.TestNow})
	t.Cleanup(sb.Close)
	m := metrics.New()
	gw := gateways.New(gateways.Options{SandboxURL: srv.URL + "/sandbox", Sandbox: sb, Metrics: m})
	deps := &jobs.Deps{Store: st, Webhooks: testDeliverer(st, m, o, zerolog.New(logs))}
	queue, err := jobs.NewClient(st.Pool(), deps, jobs.Options{Logger: zerolog.New(logs), Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	st.SetDeliveryEnqueuer(jobs.Enqueuer(queue))
	pay := payments.New(payments.Options{Store: st, Gateways: gw, Queue: queue, PublicBaseURL: srv.URL, Clock: clk, Logger: zerolog.New(logs), Metrics: m,
		NotificationLimits: o.notificationLimits})
	subs := subscriptions.New(subscriptions.Options{Store: st, Payments: pay, Clock: clk, Logger: zerolog.New(logs)})
	deps.Payments, deps.Subscriptions = pay, subs
	if !o.noJobs {
		if err := queue.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = queue.Stop(ctx)
		})
	}
	handler = New(Options{
		Store:          st,
		Admin:          admin.New(st, srv.URL),
		Gateways:       gw,
		Payments:       pay,
		Subscriptions:  subs,
		TestClock:      testclock.New(clk, sb, pay, subs),
		Identity:       identity.New(identity.Options{Store: st, Gateways: gw, Now: clk.Now}),
		Sandbox:        sb,
		Logger:         zerolog.New(logs).Level(zerolog.DebugLevel),
		AdminToken:     testAdminToken,
		MaxBodyBytes:   o.maxBodyBytes,
		RateLimit:      o.rateLimit,
		Mount:          o.mount,
		Metrics:        m,
		WebhookGuard:   webhooks.Guard{AllowPrivate: true},
		APIKeyCacheTTL: o.apiKeyCacheTTL,

		WebhookRateLimit:   o.webhookRateLimit,
		WebhookConcurrency: o.webhookConcurrency, WebhookSlotWait: o.webhookSlotWait,
		TrustedProxies: o.trustedProxies,
	})
	return &testBundle{url: srv.URL, store: st, logs: logs, sandbox: sb, payments: pay, subscriptions: subs, gateways: gw, queue: queue, metrics: m,
		client: &http.Client{Transport: contractChecker(t, http.DefaultTransport)}}
}

// response is a decoded reply.
type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// errorType returns error.type of an error reply.
func (r response) errorType() string { return r.errorField("type") }

func (r response) errorField(name string) string {
	e, _ := r.body["error"].(map[string]any)
	s, _ := e[name].(string)
	return s
}

func (r response) str(name string) string {
	s, _ := r.body[name].(string)
	return s
}

// request is one call; zero fields are left out.
type request struct {
	method, path string
	auth         string // bearer token
	body         any    // encoded as JSON unless it is a string or []byte (sent raw)
	contentType  string
	header       map[string]string
}

func (b *testBundle) do(t testing.TB, req request) response {
	t.Helper()
	var body io.Reader
	switch v := req.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(v)
	case []byte:
		body = bytes.NewReader(v)
	default:
		enc, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(enc)
	}
	hr, err := http.NewRequestWithContext(context.Background(), req.method, b.url+req.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if req.body != nil {
		ct := req.contentType
		if ct == "" {
			ct = "application/json"
		}
		hr.Header.Set("Content-Type", ct)
	}
	if req.auth != "" {
		hr.Header.Set("Authorization", "Bearer "+req.auth)
	}
	for k, v := range req.header {
		hr.Header.Set(k, v)
	}
	resp, err := b.client.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", req.method, req.path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	_ = json.Unmarshal(raw, &out.body)
	return out
}

// requireStatus fails the test unless the reply has the wanted status.
func requireStatus(t testing.TB, r response, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("status %d, want %d; body %s", r.status, want, r.raw)
	}
}

// merchantKeys is a merchant with one key of each kind in one mode.
type merchantKeys struct {
	id, secret, publishable string
}

// newMerchant creates a merchant and its test keys through the admin API.
func (b *testBundle) newMerchant(t testing.TB) merchantKeys {
	t.Helper()
	m := b.do(t, request{method: "POST", path: "/admin/v1/merchants", auth: testAdminToken, body: map[string]any{"name": "Test shop"}})
	requireStatus(t, m, http.StatusCreated)
	mk := merchantKeys{id: m.str("id")}
	mk.secret = b.newKey(t, mk.id, "secret", "test")
	mk.publishable = b.newKey(t, mk.id, "publishable", "test")
	return mk
}

func (b *testBundle) newKey(t testing.TB, merchantID, kind, mode string) string {
	t.Helper()
	r := b.do(t, request{method: "POST", path: "/admin/v1/merchants/" + merchantID + "/keys", auth: testAdminToken,
		body: map[string]any{"kind": kind, "mode": mode}})
	requireStatus(t, r, http.StatusCreated)
	return r.str("key")
}
