package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/store/storetest"
)

// A PortOne V2 account, and a billing key registered through it, are
// stored like the other providers' (migration 000010).
func TestPortoneAccountAndKeyStored(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := storetest.NewStore(t)
	m := mustMerchant(t, s)
	c := mustCustomer(t, s, m, billing.ModeTest, billing.CustomerInput{})
	a := billing.ProviderAccount{ID: billing.NewID(billing.PrefixProviderAccount), MerchantID: m.ID, Mode: billing.ModeTest,
		Provider: "portone", Credentials: map[string]string{"api_secret": "secret", "webhook_secret": "whsec_c2VjcmV0"},
		Settings: map[string]any{"store_id": "store-1", "channel_key": "channel-key-1"}}
	if err := a.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	a, err := s.CreateProviderAccount(ctx, a)
	if err != nil {
		t.Fatalf("CreateProviderAccount: %v", err)
	}
	got, err := s.GetProviderAccount(ctx, a.ID)
	if err != nil || got.Provider != "portone" || got.Credentials["api_secret"] != "secret" || got.Settings["store_id"] != "store-1" {
		t.Fatalf("GetProviderAccount = %v, %v", got, err)
	}
	k := billing.BillingKey{ID: billing.NewID(billing.PrefixBillingKey), MerchantID: m.ID, Mode: billing.ModeTest,
		CustomerID: c.ID, ProviderAccountID: a.ID, Provider: "portone", PG: "TOSSPAYMENTS", Method: billing.IssueWindow,
		Status: billing.KeyPending, Alias: billing.NewBillingKeyAlias(), ClientSecretHash: make([]byte, 32), ExpiresAt: time.Now().Add(time.Hour)}
	if err := s.WithTx(ctx, func(tx pgx.Tx) error { return s.CreateBillingKey(ctx, tx, k) }); err != nil {
		t.Fatalf("CreateBillingKey: %v", err)
	}
}
