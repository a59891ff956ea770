package gateways

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/billingd/billingd/internal/metrics"
	"github.com/billingd/billingd/internal/providers"
)

func TestOutcome(t *testing.T) {
	t.Parallel()
	kind := func(k error) error {
		return fmt.Errorf("wrapped: %w", &providers.Error{Kind: k, Provider: "iamport", Op: "charge"})
	}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, "ok"},
		{kind(providers.ErrDeclined), "declined"},
		{kind(providers.ErrRejected), "rejected"},
		{kind(providers.ErrUnknown), "unknown"},
		{kind(providers.ErrAuth), "auth"},
		{kind(providers.ErrNotFound), "not_found"},
		{errors.New("untyped"), "error"},
	} {
		if got := Outcome(tc.err); got != tc.want {
			t.Errorf("Outcome(%v) = %s, want %s", tc.err, got, tc.want)
		}
	}
}

// fakeProvider counts token requests like the adapters do.
type fakeProvider struct {
	providers.Provider
	tokens atomic.Int64
}

func (f *fakeProvider) Name() string { return "iamport" }

func (f *fakeProvider) FindPayment(context.Context, string) (providers.Payment, error) {
	f.tokens.Add(1) // every call refreshes, for the test
	return providers.Payment{}, &providers.Error{Kind: providers.ErrNotFound}
}

func (f *fakeProvider) TokenCalls() int64 { return f.tokens.Load() }

// Concurrent calls report the adapter's running token total; each refresh
// is counted once however the reports interleave.
func TestObservedCountsTokenRefreshesOnce(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	p := observe(&fakeProvider{}, m)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { _, _ = p.FindPayment(context.Background(), "pay_1") })
	}
	wg.Wait()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`billingd_pg_token_refreshes_total{provider="iamport"} 50`,
		`billingd_pg_call_duration_seconds_count{operation="find_payment",outcome="not_found",provider="iamport"} 50`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %s", want)
		}
	}
	if unwrap(p) == p {
		t.Fatal("unwrap did not return the adapter")
	}
}
