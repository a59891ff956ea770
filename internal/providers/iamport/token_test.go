package iamport_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/providers"
	"github.com/billingd/billingd/internal/providers/iamport"
)

func TestTokenSharedAcrossConcurrentCharges(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.mustWindowKey(t, "cus_conc") // the window needs no token: the cache starts cold
	const workers, each = 50, 20
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				_, err := b.client.Charge(ctx, providers.ChargeRequest{
					OrderID: fmt.Sprintf("pay_conc_%02d_%02d", w, i), BillingKey: "cus_conc", Amount: 1000, OrderName: "conc",
				})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := b.client.TokenCalls(); got != 1 {
		t.Errorf("adapter TokenCalls = %d, want 1", got)
	}
	if got := b.sb.Calls("POST /users/getToken"); got != 1 {
		t.Errorf("sandbox getToken calls = %d, want 1", got)
	}
	if got := b.sb.Calls("POST /subscribe/payments/again"); got != workers*each {
		t.Errorf("again calls = %d, want %d", got, workers*each)
	}
}

func TestTokenRefreshedInLastMinute(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.mustWindowKey(t, "cus_refresh")
	ctx := context.Background()
	verify := func() {
		t.Helper()
		if _, err := b.client.VerifyBillingKey(ctx, providers.VerifyBillingKeyRequest{Key: "cus_refresh"}); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		advance    time.Duration
		wantCalls  int64 // adapter getToken calls so far
		wantIssued int   // distinct tokens the sandbox minted so far
	}{
		{0, 1, 1},
		{29 * time.Minute, 1, 1},                // 60 s left: still fresh
		{30 * time.Second, 2, 1},                // 30 s left: refreshed, Iamport extends the same token by 300 s
		{4 * time.Minute, 2, 1},                 // 90 s left of the extension
		{40 * time.Second, 3, 1},                // 50 s left: extended again
		{10 * time.Minute, 4, 2},                // past expiry: a new token
		{29*time.Minute + 30*time.Second, 5, 2}, // last minute of the new one
		{30 * time.Second, 5, 2},                // extension holds
		{5*time.Minute + 30*time.Second, 6, 3},  // expired again
		{time.Duration(0), 6, 3},                // and cached
	}
	for i, st := range steps {
		b.clock.Add(st.advance)
		verify()
		if got := b.client.TokenCalls(); got != st.wantCalls {
			t.Fatalf("step %d: TokenCalls = %d, want %d", i, got, st.wantCalls)
		}
		if got := b.sb.TokenIssued(); got != st.wantIssued {
			t.Fatalf("step %d: sandbox TokenIssued = %d, want %d", i, got, st.wantIssued)
		}
	}
}

// The adapter measures a token's life on Iamport's clock (now/expired_at),
// so a local clock that is hours off neither refreshes on every call nor
// keeps an expired token.
func TestTokenLifeMeasuredOnServerClock(t *testing.T) {
	t.Parallel()
	for _, skew := range []time.Duration{2 * time.Hour, -2 * time.Hour} {
		t.Run(fmt.Sprint(skew), func(t *testing.T) {
			t.Parallel()
			b := setupWith(t, bundleOptions{skew: skew})
			b.mustWindowKey(t, "cus_skew")
			ctx := context.Background()
			for range 10 {
				if _, err := b.client.VerifyBillingKey(ctx, providers.VerifyBillingKeyRequest{Key: "cus_skew"}); err != nil {
					t.Fatal(err)
				}
			}
			if got := b.client.TokenCalls(); got != 1 {
				t.Fatalf("TokenCalls = %d after 10 calls, want 1", got)
			}
			b.clock.Add(29*time.Minute + 30*time.Second)
			if _, err := b.client.VerifyBillingKey(ctx, providers.VerifyBillingKeyRequest{Key: "cus_skew"}); err != nil {
				t.Fatal(err)
			}
			if got := b.client.TokenCalls(); got != 2 {
				t.Fatalf("TokenCalls = %d in the token's last minute, want 2", got)
			}
			if got := b.sb.Calls("GET /subscribe/customers/{customer_uid}"); got != 11 {
				t.Fatalf("customer calls = %d, want 11 (no 401 retries)", got)
			}
		})
	}
}

// A token Iamport already considers expired (its clock jumped ahead of
// ours) gets a 401; the adapter refreshes once and the call goes through.
func TestUnauthorizedMidFlightRefreshesOnce(t *testing.T) {
	t.Parallel()
	ops := []struct {
		name string
		call func(ctx context.Context, c *iamport.Client, n int) error
	}{
		{"Verify", func(ctx context.Context, c *iamport.Client, _ int) error {
			_, err := c.VerifyBillingKey(ctx, providers.VerifyBillingKeyRequest{Key: "cus_401"})
			return err
		}},
		{"Charge", func(ctx context.Context, c *iamport.Client, n int) error {
			_, err := c.Charge(ctx, providers.ChargeRequest{OrderID: fmt.Sprint("pay_401_", n), BillingKey: "cus_401", Amount: 1000})
			return err
		}},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.mustWindowKey(t, "cus_401")
			ctx := context.Background()
			if err := op.call(ctx, b.client, 1); err != nil {
				t.Fatal(err)
			}
			b.sb.Advance(b.sb.Now().Add(31 * time.Minute)) // only Iamport's clock moves
			if err := op.call(ctx, b.client, 2); err != nil {
				t.Fatalf("call after server-side expiry: %v", err)
			}
			if got := b.client.TokenCalls(); got != 2 {
				t.Errorf("TokenCalls = %d, want 2 (one refresh)", got)
			}
			if got := b.sb.TokenIssued(); got != 2 {
				t.Errorf("sandbox TokenIssued = %d, want 2", got)
			}
			// The new offset is learnt: the next call needs no refresh.
			if err := op.call(ctx, b.client, 3); err != nil {
				t.Fatal(err)
			}
			if got := b.client.TokenCalls(); got != 2 {
				t.Errorf("TokenCalls = %d after the refresh, want 2", got)
			}
		})
	}
}

func TestBadCredentials(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const wrong = "wrong-secret-that-must-not-leak"
	c, err := iamport.New(iamport.Config{BaseURL: b.url, ImpKey: testKey, ImpSecret: wrong})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Charge(context.Background(), providers.ChargeRequest{OrderID: "pay_auth", BillingKey: "cus_x", Amount: 1000})
	pe := requireKind(t, err, providers.ErrAuth)
	if pe.Op != "charge" {
		t.Errorf("Op = %q, want charge", pe.Op)
	}
	if strings.Contains(err.Error(), wrong) {
		t.Errorf("error leaks the secret: %v", err)
	}
	if got := b.sb.Calls("POST /subscribe/payments/again"); got != 0 {
		t.Errorf("again was called %d times without a token", got)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		cfg  iamport.Config
		ok   bool
	}{
		{"Defaults", iamport.Config{ImpKey: "k", ImpSecret: "s"}, true},
		{"PrefixedBase", iamport.Config{BaseURL: "http://localhost:8080/sandbox/iamport/", ImpKey: "k", ImpSecret: "s"}, true},
		{"NoKey", iamport.Config{ImpSecret: "s"}, false},
		{"NoSecret", iamport.Config{ImpKey: "k"}, false},
		{"BadURL", iamport.Config{BaseURL: "api.iamport.kr", ImpKey: "k", ImpSecret: "s"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := iamport.New(tc.cfg)
			if (err == nil) != tc.ok {
				t.Fatalf("New error = %v, want ok=%v", err, tc.ok)
			}
			if err == nil && c.Name() != providers.Iamport {
				t.Fatalf("Name = %q", c.Name())
			}
		})
	}
}

// A cancel without a checksum is not resent after a 401 (a repeat could
// refund twice); it reports ErrAuth and the next call uses a fresh token. A
// cancel with a checksum is resent once.
func TestCancelAfter401(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		refundable int64
		wantFirst  error // nil = cancelled on the first call (resent once)
	}{
		{"WithoutChecksum", 0, providers.ErrAuth},
		{"WithChecksum", 1000, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.mustWindowKey(t, "cus_c401")
			ctx := context.Background()
			p, err := b.client.Charge(ctx, providers.ChargeRequest{OrderID: "pay_c401", BillingKey: "cus_c401", Amount: 1000})
			if err != nil {
				t.Fatal(err)
			}
			b.sb.Advance(b.sb.Now().Add(31 * time.Minute))
			req := providers.CancelRequest{ProviderID: p.ProviderID, Refundable: tc.refundable}
			_, err = b.client.Cancel(ctx, req)
			if tc.wantFirst != nil {
				requireKind(t, err, tc.wantFirst)
				if sp, _ := b.sb.Payment(p.ProviderID); sp.CancelAmount != 0 {
					t.Fatal("a refused cancel changed the payment")
				}
				_, err = b.client.Cancel(ctx, req) // the caller's own retry
			}
			if err != nil {
				t.Fatalf("cancel: %v", err)
			}
			if got := b.sb.Calls("POST /payments/cancel"); got != 2 {
				t.Fatalf("cancel requests = %d, want 2", got)
			}
			if got := b.client.TokenCalls(); got != 2 {
				t.Fatalf("TokenCalls = %d, want 2", got)
			}
			if sp, _ := b.sb.Payment(p.ProviderID); sp.Status != "cancelled" || sp.CancelAmount != 1000 {
				t.Fatalf("payment = %s %d", sp.Status, sp.CancelAmount)
			}
		})
	}
}
