package bootpay_test

import (
	"context"
	"errors"
	"testing"

	"github.com/billingd/billingd/internal/providers"
	"github.com/billingd/billingd/internal/providers/bootpay"
)

const testCard = "4570420400001074"

func TestBillingKeyFromWindow(t *testing.T) {
	t.Parallel()
	t.Run("v2", func(t *testing.T) {
		t.Parallel()
		b := setup(t, bootpay.V2)
		ctx := context.Background()
		rid := b.window(t, "billing_keys", map[string]any{"pg": "nicepay", "card_number": testCard})
		k, err := b.client.VerifyBillingKey(ctx, providers.VerifyBillingKeyRequest{ReceiptID: rid})
		if err != nil {
			t.Fatalf("VerifyBillingKey: %v", err)
		}
		if k.Key == "" || k.CardNumber != "4570********1074" || k.CardName == "" || k.CardType != "credit" || k.IssuedAt.IsZero() {
			t.Fatalf("billing key = %+v", k)
		}
		byKey, err := b.client.VerifyBillingKey(ctx, providers.VerifyBillingKeyRequest{Key: k.Key})
		if err != nil || byKey.Key != k.Key {
			t.Fatalf("lookup by key = %+v, %v", byKey, err)
		}
		if _, err := b.client.Charge(ctx, providers.ChargeRequest{OrderID: "pay_w", BillingKey: k.Key, Amount: 1000, OrderName: "x"}); err != nil {
			t.Fatalf("Charge with the window key: %v", err)
		}
		_, err = b.client.VerifyBillingKey(ctx, providers.VerifyBillingKeyRequest{ReceiptID: "aaaaaaaaaaaaaaaaaaaaaaaa"})
		requireKind(t, err, providers.ErrNotFound)
	})
	t.Run("v1", func(t *testing.T) {
		t.Parallel()
		b := setup(t, bootpay.V1)
		rid := b.window(t, "billing_keys", map[string]any{"pg": "nicepay"})
		_, err := b.client.VerifyBillingKey(context.Background(), providers.VerifyBillingKeyRequest{ReceiptID: rid})
		requireKind(t, err, providers.ErrRejected)
		if !errors.Is(err, bootpay.ErrUnsupported) {
			t.Fatalf("v1 verify error %v does not say unsupported", err)
		}
	})
}

func TestBillingKeyOverREST(t *testing.T) {
	t.Parallel()
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			b := setup(t, v)
			ctx := context.Background()
			req := providers.IssueBillingKeyRequest{Key: "bk_rest", PG: "nicepay", OrderName: "카드 등록",
				Card:  providers.CardData{Number: testCard, Expiry: "2031-07", Birth: "900104", Password2: "12"},
				Buyer: providers.Buyer{Name: "홍길동", Phone: "01012345678"}}
			k, err := b.client.IssueBillingKey(ctx, req)
			if err != nil {
				t.Fatalf("IssueBillingKey: %v", err)
			}
			if k.Key == "" || k.CardNumber != "4570********1074" || k.CardName == "" {
				t.Fatalf("billing key = %+v", k)
			}
			if _, err := b.client.Charge(ctx, providers.ChargeRequest{OrderID: "pay_r", BillingKey: k.Key, Amount: 1000, OrderName: "x"}); err != nil {
				t.Fatalf("Charge with the REST key: %v", err)
			}

			// The "PG" refuses cards ending in 0004: a decline, and the
			// card number appears nowhere in the error.
			bad := req
			bad.Card.Number = "5570420400000004"
			_, err = b.client.IssueBillingKey(ctx, bad)
			requireKind(t, err, providers.ErrDeclined)
			requireNoSecrets(t, err.Error(), bad.Card.Number, "900104")

			bad = req
			bad.Card.Expiry = "31/07"
			_, err = b.client.IssueBillingKey(ctx, bad)
			requireKind(t, err, providers.ErrRejected)
			requireNoSecrets(t, err.Error(), testCard, "31/07")

			if err := b.client.DeleteBillingKey(ctx, k.Key); err != nil {
				t.Fatalf("DeleteBillingKey: %v", err)
			}
			requireKind(t, b.client.DeleteBillingKey(ctx, k.Key), providers.ErrNotFound)
			_, err = b.client.Charge(ctx, providers.ChargeRequest{OrderID: "pay_r2", BillingKey: k.Key, Amount: 1000, OrderName: "x"})
			requireKind(t, err, providers.ErrRejected)
			requireNoSecrets(t, err.Error(), k.Key)
		})
	}
}
