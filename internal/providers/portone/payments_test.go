package portone_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/providers"
)

// TestChargeOutcomes runs every deterministic outcome of the sandbox (last
// digit of the amount) and then asks, as reconciliation would, what
// PortOne holds for the payment id.
func TestChargeOutcomes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		amount     int64
		wantKind   error // nil = paid
		wantFind   providers.PaymentStatus
		wantNoFind bool // nothing was recorded
	}{
		{name: "Paid", amount: 9900, wantFind: providers.StatusPaid},
		{name: "Declined", amount: 9904, wantKind: providers.ErrDeclined, wantFind: providers.StatusFailed},
		{name: "ReplyHeldTimeout", amount: 9905, wantKind: providers.ErrUnknown, wantFind: providers.StatusPaid},
		{name: "ServerErrorAfterRecording", amount: 9906, wantKind: providers.ErrUnknown, wantFind: providers.StatusPaid},
		{name: "BadGatewayNothingRecorded", amount: 9907, wantKind: providers.ErrUnknown, wantNoFind: true},
		{name: "GarbledReply", amount: 9908, wantKind: providers.ErrUnknown, wantFind: providers.StatusPaid},
		{name: "ConnectionDropped", amount: 9909, wantKind: providers.ErrUnknown, wantFind: providers.StatusPaid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setupWith(t, bundleOptions{httpClient: &http.Client{Timeout: 300 * time.Millisecond}, slowReply: 20 * time.Second})
			key := b.mustKey(t, "bk_reg1", "cus_1")
			ctx := context.Background()
			p, err := b.client.Charge(ctx, providers.ChargeRequest{OrderID: "pay_outcome", BillingKey: key, Amount: tc.amount,
				OrderName: "월 구독", Buyer: providers.Buyer{Name: "홍길동"}, CustomData: `{"plan":"basic"}`})
			if tc.wantKind == nil {
				if err != nil {
					t.Fatalf("Charge: %v", err)
				}
				if p.Status != providers.StatusPaid || p.Amount != tc.amount || p.OrderID != "pay_outcome" ||
					p.ProviderID != "pay_outcome" || p.BillingKey != key || p.PaidAt.IsZero() || p.Currency != "KRW" {
					t.Fatalf("paid payment = %+v", p)
				}
			} else {
				pe := requireKind(t, err, tc.wantKind)
				if pe.Op != "charge" {
					t.Errorf("Op = %q", pe.Op)
				}
				if tc.wantKind == providers.ErrDeclined {
					if pe.PGCode != "51" || pe.PGMessage != "잔액부족" || pe.Payment == nil ||
						pe.Payment.Status != providers.StatusFailed || pe.Payment.FailCode != "51" || pe.Payment.FailedAt.IsZero() {
						t.Fatalf("decline = %+v, payment %+v", pe, pe.Payment)
					}
				}
			}
			found, err := b.client.FindPayment(ctx, "pay_outcome")
			if tc.wantNoFind {
				requireKind(t, err, providers.ErrNotFound)
				return
			}
			if err != nil {
				t.Fatalf("FindPayment: %v", err)
			}
			if found.Status != tc.wantFind || found.Amount != tc.amount || found.BillingKey != key || found.PG != "TOSSPAYMENTS" {
				t.Fatalf("found = %+v, want status %s", found, tc.wantFind)
			}
			if tc.wantFind == providers.StatusPaid {
				if found.PaidAt.IsZero() || found.CardName == "" || !strings.Contains(found.CardNumber, "*") || found.ReceiptURL == "" {
					t.Fatalf("paid payment lacks details: %+v", found)
				}
				if hooks := b.received("Transaction.Paid"); len(hooks) != 1 || hooks[0].PaymentID != "pay_outcome" {
					t.Fatalf("Transaction.Paid webhooks = %+v (refused %v)", hooks, b.hooks.refused)
				}
			}
		})
	}
}

// TestChargeAlreadyPaid: a retry after a lost reply meets 409 ALREADY_PAID
// and is settled by reading the payment — paid once, never twice.
func TestChargeAlreadyPaid(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("SettledByLookup", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		key := b.mustKey(t, "bk_reg1", "cus_1")
		req := providers.ChargeRequest{OrderID: "pay_retry", BillingKey: key, Amount: 12008, OrderName: "월 구독"}
		_, err := b.client.Charge(ctx, req)
		requireKind(t, err, providers.ErrUnknown) // the garbled reply
		p, err := b.client.Charge(ctx, req)
		if err != nil {
			t.Fatalf("retry: %v", err)
		}
		if p.Status != providers.StatusPaid || p.OrderID != "pay_retry" || p.Amount != 12008 || p.CardName == "" {
			t.Fatalf("retry settled as %+v", p)
		}
		if n := paidCount(b.sb, "pay_retry"); n != 1 {
			t.Fatalf("paid %d times", n)
		}
	})

	t.Run("ErrOtherAmountStaysUnknown", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		key := b.mustKey(t, "bk_reg1", "cus_1")
		if _, err := b.client.Charge(ctx, providers.ChargeRequest{OrderID: "pay_retry", BillingKey: key, Amount: 12000, OrderName: "a"}); err != nil {
			t.Fatal(err)
		}
		_, err := b.client.Charge(ctx, providers.ChargeRequest{OrderID: "pay_retry", BillingKey: key, Amount: 13000, OrderName: "a"})
		pe := requireKind(t, err, providers.ErrUnknown)
		if pe.PGCode != "ALREADY_PAID" || pe.Payment == nil || pe.Payment.Amount != 12000 {
			t.Fatalf("error = %+v", pe)
		}
		if n := paidCount(b.sb, "pay_retry"); n != 1 {
			t.Fatalf("paid %d times", n)
		}
	})

	// PortOne says ALREADY_PAID but the payment cannot be read: the retry
	// is unknown — neither paid (unseen) nor failed (it was paid).
	t.Run("ErrLookupFailsStaysUnknown", func(t *testing.T) {
		t.Parallel()
		rt := &failingReads{next: http.DefaultTransport}
		b := setupWith(t, bundleOptions{httpClient: &http.Client{Transport: rt}})
		key := b.mustKey(t, "bk_reg1", "cus_1")
		req := providers.ChargeRequest{OrderID: "pay_retry", BillingKey: key, Amount: 12008, OrderName: "월 구독"}
		_, err := b.client.Charge(ctx, req)
		requireKind(t, err, providers.ErrUnknown)
		rt.failing.Store(true)
		_, err = b.client.Charge(ctx, req)
		if pe := requireKind(t, err, providers.ErrUnknown); pe.PGCode != "ALREADY_PAID" {
			t.Fatalf("retry with an unreadable payment: %v", err)
		}
		if n := paidCount(b.sb, "pay_retry"); n != 1 {
			t.Fatalf("paid %d times", n)
		}
	})

	t.Run("RetryAfterDecline", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		key := b.mustKey(t, "bk_reg1", "cus_1")
		_, err := b.client.Charge(ctx, providers.ChargeRequest{OrderID: "pay_dunning", BillingKey: key, Amount: 5004, OrderName: "a"})
		requireKind(t, err, providers.ErrDeclined)
		if _, err := b.client.Charge(ctx, providers.ChargeRequest{OrderID: "pay_dunning", BillingKey: key, Amount: 5000, OrderName: "a"}); err != nil {
			t.Fatalf("a failed paymentId may be charged again: %v", err)
		}
	})
}

func TestChargeRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	key := b.mustKey(t, "bk_reg1", "cus_1")
	cases := []struct {
		name     string
		req      providers.ChargeRequest
		wantCode string // "" = refused before sending
	}{
		{"UnknownKey", providers.ChargeRequest{OrderID: "pay_a", BillingKey: "billing-key-nobody", Amount: 1000}, "BILLING_KEY_NOT_FOUND"},
		{"TaxFreeOverTotal", providers.ChargeRequest{OrderID: "pay_b", BillingKey: key, Amount: 1000, TaxFree: 1001}, ""},
		{"NoOrder", providers.ChargeRequest{BillingKey: key, Amount: 1000}, ""},
	}
	for _, tc := range cases {
		_, err := b.client.Charge(ctx, tc.req)
		pe := requireKind(t, err, providers.ErrRejected)
		if pe.PGCode != tc.wantCode {
			t.Errorf("%s: PGCode = %q, want %q", tc.name, pe.PGCode, tc.wantCode)
		}
	}
	if err := b.client.DeleteBillingKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	_, err := b.client.Charge(ctx, providers.ChargeRequest{OrderID: "pay_c", BillingKey: key, Amount: 1000})
	if pe := requireKind(t, err, providers.ErrRejected); pe.PGCode != "BILLING_KEY_ALREADY_DELETED" {
		t.Fatalf("deleted key: %v", err)
	}
	if n := len(b.sb.Attempts("pay_a")) + len(b.sb.Attempts("pay_c")); n != 0 {
		t.Fatalf("%d attempts recorded for refused charges", n)
	}
}

// TestPaymentStatuses maps every status of the V2 payment object; a status
// the adapter does not know stays unsettled, never paid or failed.
func TestPaymentStatuses(t *testing.T) {
	t.Parallel()
	cases := map[string]providers.PaymentStatus{
		"READY":                  providers.StatusPending,
		"PAY_PENDING":            providers.StatusPending,
		"VIRTUAL_ACCOUNT_ISSUED": providers.StatusPending,
		"PAID":                   providers.StatusPaid,
		"FAILED":                 providers.StatusFailed,
		"PARTIAL_CANCELLED":      providers.StatusPaid,
		"CANCELLED":              providers.StatusCancelled,
		"PENDING":                providers.StatusUnknown, // the list filter's spelling, not the object's
		"SETTLED_SOMEHOW":        providers.StatusUnknown,
	}
	ctx := context.Background()
	b := setup(t)
	key := b.mustKey(t, "bk_reg1", "cus_1")
	for status, want := range cases {
		id := "pay_" + strings.ToLower(status)
		if _, err := b.client.Charge(ctx, providers.ChargeRequest{OrderID: id, BillingKey: key, Amount: 1000}); err != nil {
			t.Fatal(err)
		}
		if !b.sb.SetPaymentStatus(id, status) {
			t.Fatal("no payment to set")
		}
		p, err := b.client.FindPayment(ctx, id)
		if err != nil || p.Status != want {
			t.Errorf("%s: status %q, %v; want %q", status, p.Status, err, want)
		}
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	key := b.mustKey(t, "bk_reg1", "cus_1")
	if _, err := b.client.Charge(ctx, providers.ChargeRequest{OrderID: "pay_refund", BillingKey: key, Amount: 10000}); err != nil {
		t.Fatal(err)
	}

	p, err := b.client.Cancel(ctx, providers.CancelRequest{OrderID: "pay_refund", Amount: 3000, Refundable: 10000, Reason: "부분 환불"})
	if err != nil {
		t.Fatalf("partial cancel: %v", err)
	}
	if p.Status != providers.StatusPaid || p.CancelledAmount != 3000 || p.CancelledAt.IsZero() {
		t.Fatalf("after a partial cancel: %+v", p)
	}

	// billingd's view is stale (it still thinks 10000 is refundable): the
	// checksum makes PortOne refuse, and nothing is refunded.
	_, err = b.client.Cancel(ctx, providers.CancelRequest{OrderID: "pay_refund", Amount: 3000, Refundable: 10000, Reason: "again"})
	if pe := requireKind(t, err, providers.ErrRejected); pe.PGCode != "CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN" {
		t.Fatalf("stale checksum: %v", err)
	}
	if p, _ := b.client.FindPayment(ctx, "pay_refund"); p.CancelledAmount != 3000 {
		t.Fatalf("a refused cancel changed the payment: %+v", p)
	}

	// Amount 0 refunds the rest.
	p, err = b.client.Cancel(ctx, providers.CancelRequest{ProviderID: "pay_refund", Refundable: 7000, Reason: "전액 환불"})
	if err != nil || p.Status != providers.StatusCancelled || p.CancelledAmount != 10000 {
		t.Fatalf("full cancel: %+v %v", p, err)
	}
	_, err = b.client.Cancel(ctx, providers.CancelRequest{OrderID: "pay_refund", Refundable: 1, Reason: "x"})
	if pe := requireKind(t, err, providers.ErrRejected); pe.PGCode != "PAYMENT_ALREADY_CANCELLED" {
		t.Fatalf("cancelled twice: %v", err)
	}

	// The checksum is always sent: without a balance nothing goes out.
	calls := b.sb.Calls("POST /payments/{paymentId}/cancel")
	_, err = b.client.Cancel(ctx, providers.CancelRequest{OrderID: "pay_refund", Amount: 1000, Reason: "x"})
	requireKind(t, err, providers.ErrRejected)
	if b.sb.Calls("POST /payments/{paymentId}/cancel") != calls {
		t.Fatal("a cancel without a checksum was sent")
	}

	partial, full := b.received("Transaction.PartialCancelled"), b.received("Transaction.Cancelled")
	if len(partial) != 1 || partial[0].CancellationID == "" || len(full) != 1 || full[0].PaymentID != "pay_refund" {
		t.Fatalf("cancel webhooks: partial %+v full %+v", partial, full)
	}
}

// failingReads fails every GET once failing is set, as a network that
// drops the lookups would.
type failingReads struct {
	next    http.RoundTripper
	failing atomic.Bool
}

func (f *failingReads) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.failing.Load() && r.Method == http.MethodGet {
		return nil, errors.New("connection reset by peer")
	}
	return f.next.RoundTrip(r)
}
