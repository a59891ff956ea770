package portone_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/providers"
	"github.com/billingd/billingd/internal/providers/portone"
	"github.com/billingd/billingd/internal/providers/portone/sandbox"
)

func TestVerifyBillingKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		key := b.mustKey(t, "bk_reg1", "cus_1")
		k, err := b.client.VerifyBillingKey(ctx, providers.VerifyBillingKeyRequest{Key: key, IssueID: "bk_reg1", CustomerID: "cus_1"})
		if err != nil {
			t.Fatalf("VerifyBillingKey: %v", err)
		}
		if k.Key != key || k.IssueID != "bk_reg1" || k.CustomerID != "cus_1" || k.StoreID != testStore || k.CardType != "credit" ||
			k.CardName == "" || !strings.Contains(k.CardNumber, "*") || k.PG != "TOSSPAYMENTS" || k.IssuedAt.IsZero() {
			t.Fatalf("key = %+v", k)
		}
		hooks := b.received("BillingKey.Issued")
		if len(hooks) != 1 || hooks[0].BillingKey != key || hooks[0].StoreID != testStore {
			t.Fatalf("BillingKey.Issued webhooks = %+v (refused %v)", hooks, b.hooks.refused)
		}
	})

	// A billing key string is only a string: one issued for another
	// registration or customer must never activate this one.
	foreign := []struct {
		name           string
		issueID, cusID string
	}{
		{"ErrOtherRegistration", "bk_other", "cus_1"},
		{"ErrOtherCustomer", "bk_reg1", "cus_2"},
	}
	for _, tc := range foreign {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			key := b.mustKey(t, "bk_reg1", "cus_1")
			k, err := b.client.VerifyBillingKey(ctx, providers.VerifyBillingKeyRequest{Key: key, IssueID: tc.issueID, CustomerID: tc.cusID})
			requireKind(t, err, providers.ErrRejected)
			if !errors.Is(err, portone.ErrForeignBillingKey) {
				t.Fatalf("err = %v, want ErrForeignBillingKey", err)
			}
			if k.IssueID != "bk_reg1" || k.CustomerID != "cus_1" {
				t.Fatalf("the refusal should still say whose key it is: %+v", k)
			}
		})
	}

	t.Run("ErrKeyOfAnotherStore", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.sb.AddAccount(sandbox.Account{APISecret: "other-secret-0123456789", StoreID: "store-other"})
		status, out := b.windowKey(t, map[string]any{"storeId": "store-other", "issueId": "bk_reg1", "customer": map[string]any{"customerId": "cus_1"}})
		if status != http.StatusOK {
			t.Fatalf("window: %d %v", status, out)
		}
		_, err := b.client.VerifyBillingKey(ctx, providers.VerifyBillingKeyRequest{Key: out["billingKey"].(string), IssueID: "bk_reg1", CustomerID: "cus_1"})
		requireKind(t, err, providers.ErrNotFound)
	})

	t.Run("ErrUnknownKey", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := b.client.VerifyBillingKey(ctx, providers.VerifyBillingKeyRequest{Key: "billing-key-nobody"})
		pe := requireKind(t, err, providers.ErrNotFound)
		if pe.PGCode != "BILLING_KEY_NOT_FOUND" {
			t.Fatalf("PGCode = %q", pe.PGCode)
		}
	})

	t.Run("ErrDeletedKey", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		key := b.mustKey(t, "bk_reg1", "cus_1")
		if err := b.client.DeleteBillingKey(ctx, key); err != nil {
			t.Fatal(err)
		}
		_, err := b.client.VerifyBillingKey(ctx, providers.VerifyBillingKeyRequest{Key: key, IssueID: "bk_reg1", CustomerID: "cus_1"})
		requireKind(t, err, providers.ErrRejected)
	})

	t.Run("ErrWrongSecret", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c, _ := portone.New(portone.Config{BaseURL: b.url, APISecret: "wrong-secret-000000"})
		_, err := c.VerifyBillingKey(ctx, providers.VerifyBillingKeyRequest{Key: "billing-key-x"})
		pe := requireKind(t, err, providers.ErrAuth)
		if strings.Contains(pe.Error(), "wrong-secret-000000") {
			t.Fatalf("the secret leaked into %q", pe.Error())
		}
	})

	t.Run("ErrWrongStore", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c, _ := portone.New(portone.Config{BaseURL: b.url, APISecret: testSecret, StoreID: "store-not-mine"})
		_, err := c.VerifyBillingKey(ctx, providers.VerifyBillingKeyRequest{Key: "billing-key-x"})
		requireKind(t, err, providers.ErrAuth)
	})
}

func TestWindowIsKeyedByIssueID(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first := b.mustKey(t, "bk_reg1", "cus_1")
	if again := b.mustKey(t, "bk_reg1", "cus_1"); again != first {
		t.Fatalf("same issueId gave %s then %s", first, again)
	}
	status, out := b.windowKey(t, map[string]any{"issueId": "bk_reg1", "customer": map[string]any{"customerId": "cus_2"}})
	if status != http.StatusConflict || out["code"] != "ALREADY_ISSUED" {
		t.Fatalf("another customer's issueId: %d %v", status, out)
	}
	status, out = b.windowKey(t, map[string]any{"issueId": "bk_reg2", "cardNumber": "4111111111110000"})
	if status != http.StatusOK || out["code"] != "FAILURE_TYPE_PG" || out["pgCode"] != "F113" || out["billingKey"] != nil {
		t.Fatalf("refused card: %d %v", status, out)
	}
}

func TestIssueBillingKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	card := providers.CardData{Number: "4111222233334444", Expiry: "2029-12", Birth: "900101", Password2: "12"}

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		k, err := b.client.IssueBillingKey(ctx, providers.IssueBillingKeyRequest{Card: card, CustomerID: "cus_1",
			Buyer: providers.Buyer{Name: "홍길동", Email: "hong@example.com"}})
		if err != nil {
			t.Fatalf("IssueBillingKey: %v", err)
		}
		if !strings.HasPrefix(k.Key, "billing-key-") || k.CustomerID != "cus_1" || k.CardNumber != "411122******4444" || k.StoreID != testStore {
			t.Fatalf("key = %+v", k)
		}
		if _, err := b.client.VerifyBillingKey(ctx, providers.VerifyBillingKeyRequest{Key: k.Key, CustomerID: "cus_1"}); err != nil {
			t.Fatalf("the issued key does not verify: %v", err)
		}
	})

	t.Run("ErrCardRefused", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		bad := card
		bad.Number = "4111222233330000"
		_, err := b.client.IssueBillingKey(ctx, providers.IssueBillingKeyRequest{Card: bad, CustomerID: "cus_1"})
		pe := requireKind(t, err, providers.ErrDeclined)
		if pe.PGCode != "F113" || pe.PGMessage == "" || strings.Contains(err.Error(), bad.Number) {
			t.Fatalf("refusal = %v (code %q)", err, pe.PGCode)
		}
	})

	t.Run("ErrNoChannel", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c, _ := portone.New(portone.Config{BaseURL: b.url, APISecret: testSecret})
		_, err := c.IssueBillingKey(ctx, providers.IssueBillingKeyRequest{Card: card})
		requireKind(t, err, providers.ErrRejected)
		if b.sb.Calls("POST /billing-keys") != 0 {
			t.Fatal("a request without a channel was sent")
		}
	})
}

func TestDeleteBillingKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	key := b.mustKey(t, "bk_reg1", "cus_1")
	scheduleID, err := b.client.Schedule(ctx, providers.ScheduleRequest{OrderID: "pay_sched", BillingKey: key,
		At: b.sb.Now().Add(time.Hour), Amount: 1000, OrderName: "구독"})
	if err != nil {
		t.Fatal(err)
	}
	pe := requireKind(t, b.client.DeleteBillingKey(ctx, key), providers.ErrRejected)
	if pe.PGCode != "PAYMENT_SCHEDULE_ALREADY_EXISTS" {
		t.Fatalf("PGCode = %q", pe.PGCode)
	}
	if err := b.client.Unschedule(ctx, key, "pay_sched", scheduleID); err != nil {
		t.Fatal(err)
	}
	if err := b.client.DeleteBillingKey(ctx, key); err != nil {
		t.Fatalf("DeleteBillingKey: %v", err)
	}
	requireKind(t, b.client.DeleteBillingKey(ctx, key), providers.ErrNotFound)
	requireKind(t, b.client.DeleteBillingKey(ctx, "billing-key-nobody"), providers.ErrNotFound)
	if hooks := b.received("BillingKey.Deleted"); len(hooks) != 1 || hooks[0].BillingKey != key {
		t.Fatalf("BillingKey.Deleted webhooks = %+v", hooks)
	}
}
