package gateways

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/providers"
	"github.com/billingd/billingd/internal/providers/portone"
	"github.com/billingd/billingd/internal/providers/sandbox"
)

// A test-mode PortOne account without a base URL gets a client of the
// built-in sandbox, which learns its secret and store; a live one points
// at api.portone.io.
func TestPortoneAccountBuildsClient(t *testing.T) {
	t.Parallel()
	set := sandbox.New(sandbox.Options{})
	srv := httptest.NewServer(http.StripPrefix("/sandbox", set))
	t.Cleanup(srv.Close)
	t.Cleanup(set.Close)
	g := New(Options{SandboxURL: srv.URL + "/sandbox", Sandbox: set})
	a := billing.ProviderAccount{ID: "pa_portone", Mode: billing.ModeTest, Provider: providers.Portone,
		Credentials: map[string]string{"api_secret": "sandbox-secret-0123456789", "webhook_secret": "whsec_c2VjcmV0"},
		Settings:    map[string]any{"store_id": "store-gw", "channel_key": "channel-key-gw"}, UpdatedAt: time.Now()}
	if err := a.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	p, err := g.For(a)
	if err != nil || p.Name() != providers.Portone {
		t.Fatalf("For: %v, %v", p, err)
	}
	if c, err := g.Portone(a); err != nil || c == nil {
		t.Fatalf("Portone: %v", err)
	}
	sched, err := g.Scheduler(a)
	if err != nil || sched == nil {
		t.Fatalf("Scheduler: %v", err)
	}

	// The browser window of the sandbox knows the store by its id.
	raw, _ := json.Marshal(map[string]any{"storeId": "store-gw", "channelKey": "channel-key-gw", "billingKeyMethod": "CARD",
		"issueId": "bk_1", "customer": map[string]any{"customerId": "cus_1"}})
	resp, err := http.Post(srv.URL+"/sandbox/portone/sandbox/window/billing_keys", "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ BillingKey string }
	_ = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	ctx := context.Background()
	k, err := p.VerifyBillingKey(ctx, providers.VerifyBillingKeyRequest{Key: out.BillingKey, IssueID: "bk_1", CustomerID: "cus_1"})
	if err != nil || k.StoreID != "store-gw" {
		t.Fatalf("VerifyBillingKey through the gateway: %+v %v", k, err)
	}
	if _, err := sched.Schedule(ctx, providers.ScheduleRequest{OrderID: "pay_1", BillingKey: k.Key, At: time.Now().Add(time.Hour), Amount: 1000}); err != nil {
		t.Fatalf("Schedule through the gateway: %v", err)
	}

	live := a
	live.ID, live.Mode = "pa_live", billing.ModeLive
	if base, err := g.BaseURL(live); err != nil || base != portone.DefaultBaseURL {
		t.Fatalf("live base URL = %q, %v", base, err)
	}
}
