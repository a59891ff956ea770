package bootpay_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/providers"
	"github.com/billingd/billingd/internal/providers/bootpay"
)

func TestTokenSharedByConcurrentCallers(t *testing.T) {
	t.Parallel()
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			b := setup(t, v)
			ctx := context.Background()
			var wg sync.WaitGroup
			errs := make(chan error, 1000)
			for range 50 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 20 {
						// An authenticated lookup; the receipt does not exist.
						_, err := b.client.GetPayment(ctx, "000000000000000000000000")
						if !errorsIsNotFound(err) {
							errs <- err
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatalf("GetPayment: %v", err)
			}
			if n := b.client.TokenCalls(); n != 1 {
				t.Fatalf("TokenCalls = %d after 1000 calls, want 1", n)
			}
			if n := b.sb.TokenIssued(); n != 1 {
				t.Fatalf("sandbox minted %d tokens, want 1", n)
			}
		})
	}
}

func errorsIsNotFound(err error) bool {
	pe, ok := providers.AsError(err)
	return ok && pe.Kind == providers.ErrNotFound
}

func TestTokenRenewedAfter25Minutes(t *testing.T) {
	t.Parallel()
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			b := setup(t, v)
			lookup := func() {
				t.Helper()
				if _, err := b.client.GetPayment(context.Background(), "000000000000000000000000"); !errorsIsNotFound(err) {
					t.Fatalf("GetPayment: %v", err)
				}
			}
			lookup()
			b.clientClock.Advance(24*time.Minute + 59*time.Second)
			b.sb.Advance(24*time.Minute + 59*time.Second)
			lookup()
			if n := b.client.TokenCalls(); n != 1 {
				t.Fatalf("TokenCalls = %d before 25 min, want 1", n)
			}
			b.clientClock.Advance(2 * time.Second)
			b.sb.Advance(2 * time.Second)
			lookup()
			if n := b.client.TokenCalls(); n != 2 {
				t.Fatalf("TokenCalls = %d after 25 min, want 2", n)
			}
			if n := b.sb.TokenIssued(); n != 2 {
				t.Fatalf("sandbox minted %d tokens after 25 min, want 2", n)
			}
		})
	}
}

// The sandbox's clock runs ahead of the client's, so the cached token has
// expired there: the call gets 401, the client fetches a new token and
// sends the call once more. For a charge that must still charge once.
func TestUnauthorizedRefreshesOnce(t *testing.T) {
	t.Parallel()
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			b := setup(t, v)
			key := b.requireKey(t)
			b.sb.Advance(31 * time.Minute)
			p, err := b.client.Charge(context.Background(), providers.ChargeRequest{OrderID: "ord_401", BillingKey: key,
				Amount: 9900, OrderName: "월간 구독"})
			if err != nil {
				t.Fatalf("Charge after token expiry: %v", err)
			}
			if p.Status != providers.StatusPaid {
				t.Fatalf("status = %s, want paid", p.Status)
			}
			if n := b.client.TokenCalls(); n != 2 {
				t.Fatalf("TokenCalls = %d, want 2 (initial + one refresh)", n)
			}
			if n := b.sb.PaidCount(testAppID, "ord_401"); n != 1 {
				t.Fatalf("paid %d times, want 1", n)
			}
		})
	}
}

// scrambleAuth is a transport that spoils the Authorization header of every
// call but the token request, so Bootpay answers 401 however often the
// token is refreshed.
type scrambleAuth struct{ next http.RoundTripper }

func (s scrambleAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get("Authorization") != "" {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer spoiled")
	}
	return s.next.RoundTrip(r)
}

func TestUnauthorizedTwiceIsAuthError(t *testing.T) {
	t.Parallel()
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			b := setup(t, v)
			key := b.requireKey(t)
			c := b.newClient(t, func(c *bootpay.Config) {
				c.HTTPClient = &http.Client{Transport: scrambleAuth{http.DefaultTransport}}
			})
			_, err := c.Charge(context.Background(), providers.ChargeRequest{OrderID: "ord_auth", BillingKey: key, Amount: 1000, OrderName: "x"})
			requireKind(t, err, providers.ErrAuth)
			if n := c.TokenCalls(); n != 2 {
				t.Fatalf("TokenCalls = %d, want 2 (one refresh, then give up)", n)
			}
			if n := b.sb.PaidCount(testAppID, "ord_auth"); n != 0 {
				t.Fatalf("paid %d times, want 0", n)
			}
		})
	}
}

func TestBadCredentialsAreAuthErrors(t *testing.T) {
	t.Parallel()
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			b := setup(t, v)
			wrong := "wrong-private-key-also-secret="
			c := b.newClient(t, func(c *bootpay.Config) { c.PrivateKey = wrong })
			_, err := c.GetPayment(context.Background(), "000000000000000000000000")
			requireKind(t, err, providers.ErrAuth)
			requireNoSecrets(t, err.Error(), wrong)
		})
	}
}

// A request that never reaches Bootpay (nothing listens) is ErrNotSent:
// a rejection for a charge (no money can have moved), unknown for a lookup.
func TestNotSent(t *testing.T) {
	t.Parallel()
	b := setup(t, bootpay.V2)
	base := b.baseURL()
	b.srv.Close()
	c := b.newClient(t, func(c *bootpay.Config) { c.BaseURL = base })
	_, err := c.Charge(context.Background(), providers.ChargeRequest{OrderID: "o", BillingKey: "k", Amount: 1000, OrderName: "x"})
	requireKind(t, err, providers.ErrRejected)
	if !errors.Is(err, bootpay.ErrNotSent) {
		t.Fatalf("charge error %v does not wrap ErrNotSent", err)
	}
	_, err = c.GetPayment(context.Background(), "r")
	requireKind(t, err, providers.ErrUnknown)
	if !errors.Is(err, bootpay.ErrNotSent) {
		t.Fatalf("lookup error %v does not wrap ErrNotSent", err)
	}
}
