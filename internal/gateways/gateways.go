// Package gateways turns a merchant's provider account into a PG client: the
// Iamport, Bootpay or PortOne V2 adapter, pointed at the account's base URL (or the
// mode's default) with its opened credentials.
//
// Clients are cached per account so each keeps its access token: a thousand
// charges cost one token request, not a thousand. A changed account (new
// credentials, another base URL) gets a new client.
package gateways

import (
	"fmt"
	"maps"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/metrics"
	"github.com/billingd/billingd/internal/providers"
	"github.com/billingd/billingd/internal/providers/bootpay"
	"github.com/billingd/billingd/internal/providers/iamport"
	"github.com/billingd/billingd/internal/providers/portone"
	"github.com/billingd/billingd/internal/tracing"
)

// Options configures the gateways.
type Options struct {
	// SandboxURL is where this process serves its sandbox PGs
	// (…/sandbox, with iamport/ and bootpay/ beneath). Test-mode accounts
	// without a base URL use it; empty means test mode has no default.
	SandboxURL string
	// HTTPClient sends every PG request; nil means the adapters' defaults
	// (connect and total timeouts, a keep-alive pool). Either way its
	// transport is timed for Server-Timing (observed.go).
	HTTPClient *http.Client
	// Trace adds an OpenTelemetry client span to every PG call.
	Trace bool
	// Metrics records PG call latencies and token refreshes; may be nil.
	Metrics *metrics.Metrics
	// Now is the clock adapters measure token lifetimes with.
	Now func() time.Time
	// Sandbox, when set, learns the credentials of every test-mode account
	// that uses the built-in sandbox, as signing up at the PG would.
	Sandbox interface {
		Register(provider string, credentials map[string]string)
	}
}

// Gateways hands out PG clients per provider account.
type Gateways struct {
	opts  Options
	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	version time.Time // the account's updated_at: a change means a new client
	client  providers.Provider
}

// New returns an empty cache.
func New(opts Options) *Gateways {
	opts.HTTPClient = pgHTTPClient(opts.HTTPClient)
	if opts.Trace {
		traced := *opts.HTTPClient
		traced.Transport = tracing.Transport(traced.Transport)
		opts.HTTPClient = &traced
	}
	return &Gateways{opts: opts, cache: map[string]cached{}}
}

// For returns the client for an account.
func (g *Gateways) For(a billing.ProviderAccount) (providers.Provider, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c, ok := g.cache[a.ID]; ok && c.version.Equal(a.UpdatedAt) {
		return c.client, nil
	}
	client, err := g.build(a)
	if err != nil {
		return nil, err
	}
	client = observe(client, g.opts.Metrics)
	g.cache[a.ID] = cached{version: a.UpdatedAt, client: client}
	return client, nil
}

// Iamport returns the Iamport client of an Iamport account.
func (g *Gateways) Iamport(a billing.ProviderAccount) (*iamport.Client, error) {
	p, err := g.For(a)
	if err != nil {
		return nil, err
	}
	c, ok := unwrap(p).(*iamport.Client)
	if !ok {
		return nil, fmt.Errorf("gateways: account %s is %s, not iamport", a.ID, a.Provider)
	}
	return c, nil
}

// Bootpay returns the Bootpay client of a Bootpay account.
func (g *Gateways) Bootpay(a billing.ProviderAccount) (*bootpay.Client, error) {
	p, err := g.For(a)
	if err != nil {
		return nil, err
	}
	c, ok := unwrap(p).(*bootpay.Client)
	if !ok {
		return nil, fmt.Errorf("gateways: account %s is %s, not bootpay", a.ID, a.Provider)
	}
	return c, nil
}

// Portone returns the PortOne V2 client of a PortOne account.
func (g *Gateways) Portone(a billing.ProviderAccount) (*portone.Client, error) {
	p, err := g.For(a)
	if err != nil {
		return nil, err
	}
	c, ok := unwrap(p).(*portone.Client)
	if !ok {
		return nil, fmt.Errorf("gateways: account %s is %s, not portone", a.ID, a.Provider)
	}
	return c, nil
}

// BaseURL is where an account's requests go: its own base URL, else the
// built-in sandbox in test mode, else the PG itself.
func (g *Gateways) BaseURL(a billing.ProviderAccount) (string, error) {
	if a.BaseURL != "" {
		return a.BaseURL, nil
	}
	version, _ := a.Settings["api_version"].(string)
	if a.Mode == billing.ModeLive {
		switch {
		case a.Provider == providers.Iamport:
			return iamport.DefaultBaseURL, nil
		case a.Provider == providers.Portone:
			return portone.DefaultBaseURL, nil
		case version == bootpay.V1:
			return bootpay.DefaultV1BaseURL, nil
		default:
			return bootpay.DefaultV2BaseURL, nil
		}
	}
	if g.opts.SandboxURL == "" {
		return "", &billing.Error{Code: billing.EInvalid, Reason: "provider_not_configured",
			Message: fmt.Sprintf("test-mode %s account %s has no base_url and this billingd serves no sandbox", a.Provider, a.ID)}
	}
	base := strings.TrimRight(g.opts.SandboxURL, "/") + "/" + a.Provider
	if a.Provider == providers.Bootpay && version != bootpay.V1 {
		base += "/v2"
	}
	return base, nil
}

func (g *Gateways) build(a billing.ProviderAccount) (providers.Provider, error) {
	base, err := g.BaseURL(a)
	if err != nil {
		return nil, err
	}
	storeID, _ := a.Settings["store_id"].(string)
	if a.Mode == billing.ModeTest && a.BaseURL == "" && g.opts.Sandbox != nil {
		creds := a.Credentials
		if a.Provider == providers.Portone {
			// The sandbox's browser window finds the store by its id.
			creds = maps.Clone(creds)
			creds["store_id"] = storeID
		}
		g.opts.Sandbox.Register(a.Provider, creds)
	}
	switch a.Provider {
	case providers.Iamport:
		return iamport.New(iamport.Config{BaseURL: base, ImpKey: a.Credentials["imp_key"],
			ImpSecret: a.Credentials["imp_secret"], HTTPClient: g.opts.HTTPClient, Now: g.opts.Now,
			TestMode: a.Mode == billing.ModeTest})
	case providers.Bootpay:
		version, _ := a.Settings["api_version"].(string)
		return bootpay.New(bootpay.Config{BaseURL: base, APIVersion: version, ApplicationID: a.Credentials["application_id"],
			PrivateKey: a.Credentials["private_key"], HTTPClient: g.opts.HTTPClient, Now: g.opts.Now})
	case providers.Portone:
		channelKey, _ := a.Settings["channel_key"].(string)
		return portone.New(portone.Config{BaseURL: base, APISecret: a.Credentials["api_secret"], StoreID: storeID,
			ChannelKey: channelKey, HTTPClient: g.opts.HTTPClient, Now: g.opts.Now})
	}
	return nil, fmt.Errorf("gateways: unknown provider %q", a.Provider)
}
