package store_test

import (
	"testing"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/store"
)

func TestFindNotificationTarget(t *testing.T) {
	t.Parallel()
	b := setupChargePath(t)
	p := b.newPayment()
	if _, err := b.s.CreatePaymentAt(t.Context(), nil, p, store.Progress{}); err != nil {
		t.Fatal(err)
	}
	other := billing.ProviderAccount{ID: billing.NewID(billing.PrefixProviderAccount), MerchantID: b.merchant.ID,
		Mode: billing.ModeLive, Provider: "iamport", Credentials: map[string]string{"imp_key": "k2", "imp_secret": "s2"}}
	if _, err := b.s.CreateProviderAccount(t.Context(), other); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name      string
		account   string
		order     string
		wantState store.PaymentState
	}{
		{"TheAccountsPayment", b.account.ID, p.ID, store.PaymentState{ID: p.ID, Status: billing.PaymentProcessing}},
		{"NoOrderNamed", b.account.ID, "", store.PaymentState{}},
		{"AnotherAccountsPayment", other.ID, p.ID, store.PaymentState{}},
		{"NoSuchPayment", b.account.ID, billing.NewID(billing.PrefixPayment), store.PaymentState{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := b.s.FindNotificationTarget(t.Context(), c.account, c.order)
			if err != nil {
				t.Fatal(err)
			}
			if got.Account.ID != c.account || got.Account.Provider != "iamport" || got.Account.Credentials != nil {
				t.Fatalf("account %+v, want %s with its credentials sealed", got.Account, c.account)
			}
			if got.Payment.ID != c.wantState.ID || got.Payment.Status != c.wantState.Status || got.Payment.ProviderPaymentID != nil {
				t.Fatalf("payment %+v, want %+v", got.Payment, c.wantState)
			}
		})
	}

	t.Run("DeletedAccountIsNotFound", func(t *testing.T) {
		if err := b.s.DeleteProviderAccount(t.Context(), other.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := b.s.FindNotificationTarget(t.Context(), other.ID, ""); billing.ErrorCode(err) != billing.ENotFound {
			t.Fatalf("deleted account: %v, want not found", err)
		}
	})
}
