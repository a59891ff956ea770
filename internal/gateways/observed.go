package gateways

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/billingd/billingd/internal/metrics"
	"github.com/billingd/billingd/internal/providers"
)

// Observability of PG calls, in two layers:
//
//   - observed decorates the providers.Provider that For returns: each
//     call's latency goes to billingd_pg_call_duration_seconds by provider,
//     operation and outcome, and the adapter's token requests (TokenCalls)
//     to billingd_pg_token_refreshes_total.
//   - the HTTP client every adapter sends with is wrapped by
//     metrics.PGTransport, which adds the time spent waiting on the PG to
//     the request's Server-Timing "pg" entry — at the transport, so the
//     PG-specific calls reached through Iamport() and Bootpay() (schedules,
//     reservations, certificates, user tokens) count too.
//
// Those PG-specific calls are not in the per-operation histogram: they
// return the concrete adapter, which callers use for its own methods.
// Their token refreshes are counted (at the next decorated call, from the
// adapter's running total).

type tokenCounter interface{ TokenCalls() int64 }

type observed struct {
	providers.Provider
	m    *metrics.Metrics
	seen atomic.Int64 // the adapter's TokenCalls already counted
}

func observe(p providers.Provider, m *metrics.Metrics) providers.Provider {
	if m == nil {
		return p
	}
	return &observed{Provider: p, m: m}
}

// done records one call.
func (o *observed) done(op string, start time.Time, err error) {
	o.m.ObservePGCall(o.Name(), op, Outcome(err), time.Since(start))
	tc, ok := o.Provider.(tokenCounter)
	if !ok {
		return
	}
	// Concurrent calls race to report the same refreshes: only the one
	// that moves seen forward counts the difference.
	cur := tc.TokenCalls()
	for {
		prev := o.seen.Load()
		if cur <= prev {
			return
		}
		if o.seen.CompareAndSwap(prev, cur) {
			o.m.AddTokenRefreshes(o.Name(), cur-prev)
			return
		}
	}
}

// Outcome labels a PG call's result: ok, declined, rejected, unknown,
// auth, not_found, or error (anything untyped, which adapters should not
// return).
func Outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, providers.ErrDeclined):
		return "declined"
	case errors.Is(err, providers.ErrRejected):
		return "rejected"
	case errors.Is(err, providers.ErrUnknown):
		return "unknown"
	case errors.Is(err, providers.ErrAuth):
		return "auth"
	case errors.Is(err, providers.ErrNotFound):
		return "not_found"
	}
	return "error"
}

func (o *observed) VerifyBillingKey(ctx context.Context, req providers.VerifyBillingKeyRequest) (providers.BillingKey, error) {
	start := time.Now()
	k, err := o.Provider.VerifyBillingKey(ctx, req)
	o.done("verify_billing_key", start, err)
	return k, err
}

func (o *observed) IssueBillingKey(ctx context.Context, req providers.IssueBillingKeyRequest) (providers.BillingKey, error) {
	start := time.Now()
	k, err := o.Provider.IssueBillingKey(ctx, req)
	o.done("issue_billing_key", start, err)
	return k, err
}

func (o *observed) DeleteBillingKey(ctx context.Context, key string) error {
	start := time.Now()
	err := o.Provider.DeleteBillingKey(ctx, key)
	o.done("delete_billing_key", start, err)
	return err
}

func (o *observed) Charge(ctx context.Context, req providers.ChargeRequest) (providers.Payment, error) {
	start := time.Now()
	p, err := o.Provider.Charge(ctx, req)
	o.done("charge", start, err)
	return p, err
}

func (o *observed) FindPayment(ctx context.Context, orderID string) (providers.Payment, error) {
	start := time.Now()
	p, err := o.Provider.FindPayment(ctx, orderID)
	o.done("find_payment", start, err)
	return p, err
}

func (o *observed) GetPayment(ctx context.Context, providerID string) (providers.Payment, error) {
	start := time.Now()
	p, err := o.Provider.GetPayment(ctx, providerID)
	o.done("get_payment", start, err)
	return p, err
}

func (o *observed) Cancel(ctx context.Context, req providers.CancelRequest) (providers.Payment, error) {
	start := time.Now()
	p, err := o.Provider.Cancel(ctx, req)
	o.done("cancel", start, err)
	return p, err
}

// unwrap returns the adapter behind a decorated provider.
func unwrap(p providers.Provider) providers.Provider {
	if o, ok := p.(*observed); ok {
		return o.Provider
	}
	return p
}

// pgHTTPClient is the client adapters send with: the configured one, or
// one with the adapters' own defaults (5 s dial and TLS handshake, 30 s per
// call, a keep-alive pool), its transport timed for Server-Timing.
func pgHTTPClient(hc *http.Client) *http.Client {
	if hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
		t.TLSHandshakeTimeout = 5 * time.Second
		t.MaxIdleConns = 256
		t.MaxIdleConnsPerHost = 64
		hc = &http.Client{Transport: t, Timeout: 30 * time.Second}
	}
	timed := *hc
	timed.Transport = metrics.PGTransport(hc.Transport)
	return &timed
}
