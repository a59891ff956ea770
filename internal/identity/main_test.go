package identity_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/billingd/billingd/internal/admin"
	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/gateways"
	"github.com/billingd/billingd/internal/identity"
	"github.com/billingd/billingd/internal/logtest"
	"github.com/billingd/billingd/internal/providers/sandbox"
	"github.com/billingd/billingd/internal/store"
	"github.com/billingd/billingd/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// testClock is the one clock of a bundle: the service, the adapters and
// the sandbox PG all read it, so a test moves time for all of them.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testBundle is a merchant with a test-mode Bootpay account on a real
// database and the real Bootpay sandbox, reached over HTTP.
type testBundle struct {
	ctx        context.Context // carries a logger writing to logs
	logs       *logtest.Buffer
	clock      *testClock
	store      *store.Store
	admin      *admin.Service
	sandbox    *sandbox.Set
	sandboxURL string
	svc        *identity.Service
	merchant   billing.Merchant
	secret     identity.Caller // the merchant's secret key in test mode
	public     identity.Caller // its publishable key
	appID      string          // the Bootpay account's application_id
	accountID  string
}

// setup builds a bundle whose Bootpay account has the given settings
// (nil: none).
func setup(t *testing.T, settings map[string]any) *testBundle {
	t.Helper()
	clock := &testClock{now: time.Date(2025, time.March, 10, 3, 0, 0, 0, time.UTC)}
	st := storetest.NewStore(t)
	sb := sandbox.New(sandbox.Options{Now: clock.Now})
	t.Cleanup(sb.Close)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	gw := gateways.New(gateways.Options{SandboxURL: srv.URL, Sandbox: sb, Now: clock.Now})
	logs := &logtest.Buffer{}
	b := &testBundle{
		ctx:   zerolog.New(logs).WithContext(context.Background()),
		logs:  logs,
		clock: clock, store: st, admin: admin.New(st, "https://billingd.example"), sandbox: sb, sandboxURL: srv.URL,
		svc: identity.New(identity.Options{Store: st, Gateways: gw, Now: func(billing.Mode) time.Time { return clock.Now() }}),
	}
	m, err := b.admin.CreateMerchant(b.ctx, "Test shop")
	if err != nil {
		t.Fatal(err)
	}
	b.merchant = m
	b.secret = identity.Caller{MerchantID: m.ID, Mode: billing.ModeTest, Secret: true}
	b.public = identity.Caller{MerchantID: m.ID, Mode: billing.ModeTest}
	b.appID = randomHex(t, 12)
	privateKey := "sandbox-key-" + randomHex(t, 16)
	acc, err := b.admin.CreateProviderAccount(b.ctx, m.ID, admin.ProviderAccountInput{Provider: "bootpay", Mode: "test",
		Credentials: map[string]string{"application_id": b.appID, "private_key": privateKey}, Settings: settings})
	if err != nil {
		t.Fatal(err)
	}
	b.accountID = acc.ID
	// The identity window needs the project before billingd first talks
	// to the sandbox (which registers it then).
	sb.Bootpay.AddAccount(b.appID, privateKey)
	return b
}

// mustCustomer creates a customer of the bundle's merchant from a JSON
// body, as POST /v1/customers would.
func (b *testBundle) mustCustomer(t *testing.T, body map[string]any) billing.Customer {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	var in billing.CustomerInput
	if err := json.Unmarshal(raw, &in); err != nil {
		t.Fatal(err)
	}
	c := billing.Customer{ID: billing.NewID(billing.PrefixCustomer), MerchantID: b.merchant.ID, Mode: billing.ModeTest}
	if err := in.Apply(&c); err != nil {
		t.Fatal(err)
	}
	if c, err = b.store.CreateCustomer(b.ctx, c); err != nil {
		t.Fatal(err)
	}
	return c
}

// countRows counts the rows of a table in the bundle's database.
func (b *testBundle) countRows(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := b.store.Pool().QueryRow(b.ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// requireError fails unless err is a *billing.Error with this code, reason
// and param.
func requireError(t *testing.T, err error, code billing.Code, reason, param string) *billing.Error {
	t.Helper()
	var be *billing.Error
	if !errors.As(err, &be) {
		t.Fatalf("error %v, want %s/%s", err, code, reason)
	}
	if be.Code != code || be.Reason != reason || be.Param != param {
		t.Fatalf("error %s/%s on %q (%v), want %s/%s on %q", be.Code, be.Reason, be.Param, be, code, reason, param)
	}
	return be
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	p := make([]byte, n)
	if _, err := rand.Read(p); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(p)
}

// postJSON posts body to url and decodes the JSON reply into out.
func postJSON(t *testing.T, url string, body, out any) {
	t.Helper()
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(url, "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: status %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}
