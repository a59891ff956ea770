package api

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/payments"
	"github.com/billingd/billingd/internal/providers"
)

// storedPayment creates a payment of key in status, as billingd would
// have before calling the PG.
func (b *payBundle) storedPayment(t *testing.T, keyID string, amount int64, status billing.PaymentStatus) billing.Payment {
	t.Helper()
	p := billing.Payment{ID: billing.NewID(billing.PrefixPayment), MerchantID: b.m.id, Mode: billing.ModeTest,
		CustomerID: b.customer, BillingKeyID: keyID, ProviderAccountID: b.accountID, Provider: "iamport",
		Amount: amount, Currency: "KRW", OrderName: "x", Status: status}
	err := b.store.WithTx(t.Context(), func(tx pgx.Tx) error {
		_, err := b.store.CreatePayment(t.Context(), tx, p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// chargeAtPG charges an order at the sandbox directly, as something other
// than billingd's charge of it would (a browser, a stray call).
func (b *payBundle) chargeAtPG(t *testing.T, orderID, keyID string, amount int64) providers.Payment {
	t.Helper()
	key, err := b.store.GetBillingKey(t.Context(), b.m.id, billing.ModeTest, keyID)
	if err != nil {
		t.Fatal(err)
	}
	client, err := b.gateways.Iamport(mustAccount(t, b))
	if err != nil {
		t.Fatal(err)
	}
	paid, err := client.Charge(t.Context(), providers.ChargeRequest{OrderID: orderID, BillingKey: key.ProviderKey, Amount: amount, OrderName: "x"})
	if err != nil {
		t.Fatal(err)
	}
	return paid
}

func (b *payBundle) metricsText(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(b.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return string(raw)
}

// TestPGAnswersApplyOnlyWhenTheyMatch: Iamport's lookup by merchant_uid
// returns the newest attempt, which need not be billingd's. An answer for
// another billing key or amount is never applied, by reconciliation or by
// a webhook's verification: the payment stays unsettled, an event tells
// the operator, and the metric counts it.
func TestPGAnswersApplyOnlyWhenTheyMatch(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		other  bool // charged at the PG with another key of the customer
		amount int64
		field  string
	}{
		{name: "AnotherKey", other: true, amount: 7000, field: "billing_key"},
		{name: "AnotherAmount", amount: 9000, field: "amount"},
	}
	for _, tc := range cases {
		t.Run("Reconcile"+tc.name, func(t *testing.T) {
			t.Parallel()
			b := setupPaymentsWith(t, bundleOpts{noJobs: true})
			b.sandbox.Iamport.SetWebhooksEnabled(false)
			ours, theirs := b.activeKey(t, "payco"), b.activeKey(t, "payco")
			p := b.storedPayment(t, ours, 7000, billing.PaymentProcessing)
			at := ours
			if tc.other {
				at = theirs
			}
			b.chargeAtPG(t, p.ID, at, tc.amount)

			_, err := b.payments.Reconcile(t.Context(), p.ID)
			if !errors.Is(err, payments.ErrPGMismatch) || !errors.Is(err, payments.ErrStillUnknown) {
				t.Fatalf("Reconcile: %v", err)
			}
			if got := b.paymentStatus(t, p.ID); got != "unknown" {
				t.Fatalf("payment is %s after a foreign answer", got)
			}
			b.requireMismatchEvent(t, p.ID, tc.field)
			// Asked again (the job retries for days): counted, not announced twice.
			if _, err := b.payments.Reconcile(t.Context(), p.ID); !errors.Is(err, payments.ErrPGMismatch) {
				t.Fatalf("second Reconcile: %v", err)
			}
			if got := b.eventTypes(t, p.ID); len(got) != 2 || got[0] != "payment.pg_mismatch" || got[1] != "payment.unknown" {
				t.Fatalf("events %v", got)
			}
			want := `billingd_pg_answer_mismatches_total{path="reconcile",provider="iamport"} 2`
			if m := b.metricsText(t); !strings.Contains(m, want) {
				t.Fatalf("metrics lack %s", want)
			}
		})
		t.Run("Notification"+tc.name, func(t *testing.T) {
			t.Parallel()
			b := setupPaymentsWith(t, bundleOpts{noJobs: true})
			b.sandbox.Iamport.SetWebhooksEnabled(false)
			ours, theirs := b.activeKey(t, "payco"), b.activeKey(t, "payco")
			p := b.storedPayment(t, ours, 7000, billing.PaymentUnknown)
			at := ours
			if tc.other {
				at = theirs
			}
			paid := b.chargeAtPG(t, p.ID, at, tc.amount)
			_, err := b.payments.ReceiveNotification(t.Context(), "iamport", b.accountID, net.IPv4(127, 0, 0, 1), payments.Notification{
				ProviderID: paid.ProviderID, DedupeKey: paid.ProviderID + ":paid",
				Payload: map[string]any{"imp_uid": paid.ProviderID, "merchant_uid": p.ID, "status": "paid"}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.payments.ApplyPendingNotifications(t.Context(), billing.ModeTest); err != nil {
				t.Fatal(err)
			}
			if got := b.paymentStatus(t, p.ID); got != "unknown" {
				t.Fatalf("payment is %s after a foreign answer", got)
			}
			list, err := b.store.NotificationsByAccount(t.Context(), b.accountID)
			if err != nil || len(list) != 1 || list[0].Outcome == nil || !strings.HasPrefix(*list[0].Outcome, "flagged_") {
				t.Fatalf("notifications %+v, %v", list, err)
			}
			b.requireMismatchEvent(t, p.ID, tc.field)
		})
	}
}

func (b *payBundle) requireMismatchEvent(t *testing.T, paymentID, field string) {
	t.Helper()
	events, err := b.store.EventsFor(t.Context(), b.m.id, "test", paymentID)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Type != "payment.pg_mismatch" {
			continue
		}
		data, _ := e.Data.(map[string]any)
		m, _ := data["pg_mismatch"].(map[string]any)
		fields, _ := m["fields"].([]any)
		if data["id"] != paymentID || len(fields) != 1 || fields[0] != field {
			t.Fatalf("mismatch event data %v", data)
		}
		return
	}
	t.Fatalf("no payment.pg_mismatch event among %v", b.eventTypes(t, paymentID))
}
