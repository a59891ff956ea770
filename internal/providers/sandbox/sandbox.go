// Package sandbox bundles the wire-faithful fakes of every PG so billingd can
// serve them beside its API (under /sandbox) for test-mode accounts and for
// `billingd dev`.
//
// State is in memory, per process: a test-mode account whose base_url is the
// default talks to the sandbox of the replica that serves it. Run one replica
// for test mode, or point test accounts' base_url at a shared sandbox.
package sandbox

import (
	"context"
	"net/http"
	"strings"
	"time"

	bootpaysandbox "github.com/billingd/billingd/internal/providers/bootpay/sandbox"
	iamportsandbox "github.com/billingd/billingd/internal/providers/iamport/sandbox"
	portonesandbox "github.com/billingd/billingd/internal/providers/portone/sandbox"
)

// Options configures every fake.
type Options struct {
	Now        func() time.Time
	HTTPClient *http.Client  // sends their webhooks
	Latency    time.Duration // added to every reply, for benchmarks
}

// Set is one fake of each PG.
type Set struct {
	Iamport *iamportsandbox.Server
	Bootpay *bootpaysandbox.Server
	Portone *portonesandbox.Server
	handler http.Handler
}

// New starts an empty Set.
func New(o Options) *Set {
	s := &Set{
		Iamport: iamportsandbox.New(iamportsandbox.Options{Now: o.Now, HTTPClient: o.HTTPClient, Latency: o.Latency}),
		Bootpay: bootpaysandbox.New(bootpaysandbox.Options{Now: o.Now, HTTPClient: o.HTTPClient, Latency: o.Latency}),
		Portone: portonesandbox.New(portonesandbox.Options{Now: o.Now, HTTPClient: o.HTTPClient, Latency: o.Latency}),
	}
	mux := http.NewServeMux()
	mux.Handle("/iamport/", http.StripPrefix("/iamport", s.Iamport))
	mux.Handle("/bootpay/", http.StripPrefix("/bootpay", s.Bootpay))
	mux.Handle("/portone/", http.StripPrefix("/portone", s.Portone))
	s.handler = mux
	return s
}

// ServeHTTP serves /iamport/…, /bootpay/… and /portone/…; mount it with its prefix
// stripped (r.Mount("/sandbox", set)).
func (s *Set) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/") {
		r.URL.Path = "/" + r.URL.Path
	}
	s.handler.ServeHTTP(w, r)
}

// Register lets an account's credentials in, as signing up at the PG would.
func (s *Set) Register(provider string, credentials map[string]string) {
	switch provider {
	case "iamport":
		s.Iamport.AddAccount(credentials["imp_key"], credentials["imp_secret"])
	case "bootpay":
		s.Bootpay.AddAccount(credentials["application_id"], credentials["private_key"])
	case "portone":
		s.Portone.AddAccount(portonesandbox.Account{APISecret: credentials["api_secret"], StoreID: credentials["store_id"],
			WebhookSecret: credentials["webhook_secret"]})
	}
}

// RunDue runs every scheduled payment that is due on the sandbox clocks.
func (s *Set) RunDue(ctx context.Context) error {
	if _, err := s.Iamport.RunDue(ctx); err != nil {
		return err
	}
	s.Bootpay.RunDue(ctx)
	s.Portone.RunDue(ctx)
	return nil
}

// Close waits for webhooks in flight.
func (s *Set) Close() {
	s.Iamport.Close()
	s.Bootpay.Close()
	s.Portone.Close()
}
