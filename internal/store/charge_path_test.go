package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/store"
	"github.com/billingd/billingd/internal/store/storetest"
)

// chargeBundle is a merchant with a test-mode Iamport account and a
// customer whose active key is the default.
type chargeBundle struct {
	s        *store.Store
	merchant billing.Merchant
	account  billing.ProviderAccount
	customer billing.Customer
	key      billing.BillingKey
}

func setupChargePath(t *testing.T) chargeBundle {
	t.Helper()
	ctx := context.Background()
	s := storetest.NewStore(t)
	b := chargeBundle{s: s, merchant: mustMerchant(t, s)}
	name := "홍길동"
	b.customer = mustCustomer(t, s, b.merchant, billing.ModeTest, billing.CustomerInput{Name: billing.Set(name)})
	var err error
	b.account, err = s.CreateProviderAccount(ctx, billing.ProviderAccount{ID: billing.NewID(billing.PrefixProviderAccount),
		MerchantID: b.merchant.ID, Mode: billing.ModeTest, Provider: "iamport",
		Credentials: map[string]string{"imp_key": "k", "imp_secret": "s"}, Settings: map[string]any{"default_pg": "nice"}})
	if err != nil {
		t.Fatal(err)
	}
	b.key = billing.BillingKey{ID: billing.NewID(billing.PrefixBillingKey), MerchantID: b.merchant.ID, Mode: billing.ModeTest,
		CustomerID: b.customer.ID, ProviderAccountID: b.account.ID, Provider: "iamport", PG: "nice", Method: billing.IssueREST,
		Status: billing.KeyPending, Alias: billing.NewBillingKeyAlias(), ClientSecretHash: make([]byte, 32), ExpiresAt: time.Now().Add(time.Hour)}
	err = s.WithTx(ctx, func(tx pgx.Tx) error {
		if err := s.CreateBillingKey(ctx, tx, b.key); err != nil {
			return err
		}
		b.key.ProviderKey = b.key.Alias
		_, err := s.ActivateBillingKey(ctx, tx, b.key)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newPayment is a processing payment of the bundle's key, not stored yet.
func (b chargeBundle) newPayment() billing.Payment {
	return billing.Payment{ID: billing.NewID(billing.PrefixPayment), MerchantID: b.merchant.ID, Mode: billing.ModeTest,
		CustomerID: b.customer.ID, BillingKeyID: b.key.ID, ProviderAccountID: b.account.ID, Provider: "iamport",
		Amount: 1000, Currency: "KRW", OrderName: "x", Status: billing.PaymentProcessing}
}

func TestFindChargeTarget(t *testing.T) {
	t.Parallel()

	t.Run("ByKeyAndByCustomer", func(t *testing.T) {
		t.Parallel()
		b := setupChargePath(t)
		for _, by := range [][2]string{{b.key.ID, ""}, {"", b.customer.ID}} {
			got, ok, err := b.s.FindChargeTarget(t.Context(), b.merchant.ID, billing.ModeTest, by[0], by[1])
			if err != nil || !ok {
				t.Fatalf("FindChargeTarget%v = %v, %v", by, ok, err)
			}
			// The same as reading them one by one.
			key, _ := b.s.GetBillingKey(t.Context(), b.merchant.ID, billing.ModeTest, b.key.ID)
			customer, _ := b.s.GetCustomer(t.Context(), b.merchant.ID, billing.ModeTest, b.customer.ID)
			account, _ := b.s.GetProviderAccount(t.Context(), b.account.ID)
			if got.Key.ID != key.ID || got.Key.Status != billing.KeyActive || !got.Key.IsDefault || got.Key.ProviderKey != key.ProviderKey {
				t.Errorf("key %+v, want %+v", got.Key, key)
			}
			if got.Customer.ID != customer.ID || got.Customer.Name == nil || *got.Customer.Name != "홍길동" {
				t.Errorf("customer %+v", got.Customer)
			}
			if got.Account.ID != account.ID || got.Account.Credentials["imp_secret"] != "s" || !got.Account.UpdatedAt.Equal(account.UpdatedAt) {
				t.Errorf("account %+v", got.Account)
			}
		}
	})

	t.Run("MissingPartsAreNotFound", func(t *testing.T) {
		t.Parallel()
		b := setupChargePath(t)
		other := mustMerchant(t, b.s)
		if _, ok, err := b.s.FindChargeTarget(t.Context(), other.ID, billing.ModeTest, b.key.ID, ""); ok || err != nil {
			t.Fatalf("another merchant's key: %v, %v", ok, err)
		}
		if _, ok, err := b.s.FindChargeTarget(t.Context(), b.merchant.ID, billing.ModeLive, b.key.ID, ""); ok || err != nil {
			t.Fatalf("the key in the other mode: %v, %v", ok, err)
		}
		if err := b.s.DeleteCustomer(t.Context(), b.merchant.ID, billing.ModeTest, b.customer.ID); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := b.s.FindChargeTarget(t.Context(), b.merchant.ID, billing.ModeTest, b.key.ID, ""); ok || err != nil {
			t.Fatalf("a deleted customer's key: %v, %v", ok, err)
		}
	})
}

func TestCreatePaymentAt(t *testing.T) {
	t.Parallel()

	keyState := func(t *testing.T, b chargeBundle, key string) (point string, locked bool) {
		t.Helper()
		err := b.s.Pool().QueryRow(t.Context(), `SELECT recovery_point, locked_at IS NOT NULL FROM idempotency_keys
			WHERE merchant_id = $1 AND key = $2`, b.merchant.ID, key).Scan(&point, &locked)
		if err != nil {
			t.Fatal(err)
		}
		return point, locked
	}

	t.Run("ClaimsANewKeyWithThePayment", func(t *testing.T) {
		t.Parallel()
		b := setupChargePath(t)
		k := store.IdempotencyKey{MerchantID: b.merchant.ID, Mode: billing.ModeTest, Key: "new"}
		claim := &store.PendingClaim{Request: store.IdempotentRequest{Method: "POST", Path: "/v1/payments", Fingerprint: []byte{1}}}
		p := b.newPayment()
		created, err := b.s.CreatePaymentAt(t.Context(), nil, p, store.Progress{Key: k, Point: "payment:" + p.ID, Claim: claim})
		if err != nil || created.ID != p.ID || created.Status != billing.PaymentProcessing || created.CreatedAt.IsZero() {
			t.Fatalf("CreatePaymentAt = %+v, %v", created, err)
		}
		if !claim.Claimed() {
			t.Fatal("the claim does not report itself claimed")
		}
		if point, locked := keyState(t, b, "new"); point != "payment:"+p.ID || !locked {
			t.Fatalf("key at %q, locked %v", point, locked)
		}
	})

	t.Run("TakenKeyWritesNothing", func(t *testing.T) {
		t.Parallel()
		b := setupChargePath(t)
		k := store.IdempotencyKey{MerchantID: b.merchant.ID, Mode: billing.ModeTest, Key: "taken"}
		req := store.IdempotentRequest{Method: "POST", Path: "/v1/payments", Fingerprint: []byte{1}}
		if _, err := b.s.ClaimIdempotencyKey(t.Context(), k, req, time.Minute); err != nil {
			t.Fatal(err)
		}
		claim := &store.PendingClaim{Request: req}
		p := b.newPayment()
		_, err := b.s.CreatePaymentAt(t.Context(), nil, p, store.Progress{Key: k, Point: "payment:" + p.ID, Claim: claim})
		if !errors.Is(err, store.ErrIdempotencyKeyExists) || claim.Claimed() {
			t.Fatalf("CreatePaymentAt on a taken key = %v (claimed %v)", err, claim.Claimed())
		}
		if _, err := b.s.PaymentByID(t.Context(), p.ID); billing.ErrorCode(err) != billing.ENotFound {
			t.Fatalf("the payment was written: %v", err)
		}
		if point, _ := keyState(t, b, "taken"); point != "started" {
			t.Fatalf("the key moved to %q", point)
		}
	})

	t.Run("MovesAClaimedKey", func(t *testing.T) {
		t.Parallel()
		b := setupChargePath(t)
		k := store.IdempotencyKey{MerchantID: b.merchant.ID, Mode: billing.ModeTest, Key: "claimed"}
		if _, err := b.s.ClaimIdempotencyKey(t.Context(), k, store.IdempotentRequest{Method: "POST", Path: "/x", Fingerprint: []byte{1}}, time.Minute); err != nil {
			t.Fatal(err)
		}
		p := b.newPayment()
		if _, err := b.s.CreatePaymentAt(t.Context(), nil, p, store.Progress{Key: k, Point: "payment:" + p.ID}); err != nil {
			t.Fatal(err)
		}
		if point, _ := keyState(t, b, "claimed"); point != "payment:"+p.ID {
			t.Fatalf("key at %q", point)
		}
	})
}

func TestSettlePaymentTx(t *testing.T) {
	t.Parallel()
	b := setupChargePath(t)
	p := b.newPayment()
	if _, err := b.s.CreatePayment(t.Context(), nil, p); err != nil {
		t.Fatal(err)
	}
	paid := billing.Outcome{Status: billing.PaymentPaid, At: time.Now(), ProviderPaymentID: "imp_1"}

	// fn's error rolls the update back.
	boom := errors.New("boom")
	err := b.s.SettlePaymentTx(t.Context(), p.ID, paid, func(tx pgx.Tx, got billing.Payment, changed bool) error {
		if !changed || got.Status != billing.PaymentPaid {
			t.Errorf("in the transaction: %s, changed %v", got.Status, changed)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("SettlePaymentTx = %v, want fn's error", err)
	}
	if got, _ := b.s.PaymentByID(t.Context(), p.ID); got.Status != billing.PaymentProcessing {
		t.Fatalf("after a rollback: %s", got.Status)
	}

	// Committed; a second settle changes nothing.
	for i, want := range []bool{true, false} {
		err := b.s.SettlePaymentTx(t.Context(), p.ID, paid, func(tx pgx.Tx, got billing.Payment, changed bool) error {
			if changed != want {
				t.Errorf("settle %d: changed %v, want %v", i, changed, want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := b.s.PaymentByID(t.Context(), p.ID); got.Status != billing.PaymentPaid || got.ProviderPaymentID == nil {
		t.Fatalf("after the commit: %+v", got)
	}
}
