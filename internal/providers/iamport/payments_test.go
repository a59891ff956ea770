package iamport_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/providers"
)

// TestChargeOutcomes runs every deterministic outcome of the sandbox (last
// digit of the amount) and then asks, as reconciliation would, what the PG
// holds for the order.
func TestChargeOutcomes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		amount     int64
		key        string // "" = the registered key
		wantKind   error  // nil = paid
		wantFind   providers.PaymentStatus
		wantNoFind bool // FindPayment is ErrNotFound: nothing was recorded
	}{
		{name: "Paid", amount: 9900, wantFind: providers.StatusPaid},
		{name: "Declined", amount: 9904, wantKind: providers.ErrDeclined, wantFind: providers.StatusFailed},
		{name: "UnknownCustomer", amount: 9900, key: "cus_nobody", wantKind: providers.ErrRejected, wantNoFind: true},
		{name: "ServerErrorAfterRecording", amount: 9906, wantKind: providers.ErrUnknown, wantFind: providers.StatusPaid},
		{name: "BadGatewayNothingRecorded", amount: 9907, wantKind: providers.ErrUnknown, wantNoFind: true},
		{name: "GarbledReply", amount: 9908, wantKind: providers.ErrUnknown, wantFind: providers.StatusPaid},
		{name: "ConnectionDropped", amount: 9909, wantKind: providers.ErrUnknown, wantFind: providers.StatusPaid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.mustWindowKey(t, "cus_outcome")
			key := tc.key
			if key == "" {
				key = "cus_outcome"
			}
			ctx := context.Background()
			req := providers.ChargeRequest{OrderID: "pay_outcome", BillingKey: key, Amount: tc.amount, OrderName: "월 구독",
				Buyer: providers.Buyer{Name: "홍길동", Email: "hong@example.com"}, CustomData: `{"plan":"basic"}`}
			p, err := b.client.Charge(ctx, req)
			if tc.wantKind == nil {
				if err != nil {
					t.Fatalf("Charge: %v", err)
				}
				if p.Status != providers.StatusPaid || p.Amount != tc.amount || p.OrderID != "pay_outcome" || p.BillingKey != key ||
					p.PaidAt.IsZero() || p.PG != "payco" || !strings.Contains(p.CardNumber, "*") || p.Currency != "KRW" {
					t.Fatalf("paid payment = %+v", p)
				}
			} else {
				pe := requireKind(t, err, tc.wantKind)
				if pe.Op != "charge" {
					t.Errorf("Op = %q", pe.Op)
				}
				if tc.wantKind == providers.ErrDeclined {
					if pe.Payment == nil || pe.Payment.Status != providers.StatusFailed || pe.PGMessage != "잔액부족" ||
						pe.Payment.FailReason != "잔액부족" || pe.Payment.FailedAt.IsZero() {
						t.Fatalf("decline error = %+v payment %+v", pe, pe.Payment)
					}
				}
			}
			found, err := b.client.FindPayment(ctx, "pay_outcome")
			if tc.wantNoFind {
				requireKind(t, err, providers.ErrNotFound)
			} else {
				if err != nil {
					t.Fatalf("FindPayment: %v", err)
				}
				if found.Status != tc.wantFind || found.Amount != tc.amount {
					t.Fatalf("found = %+v, want status %s", found, tc.wantFind)
				}
				got, err := b.client.GetPayment(ctx, found.ProviderID)
				if err != nil || got.ProviderID != found.ProviderID || got.Status != tc.wantFind {
					t.Fatalf("GetPayment = %+v, %v", got, err)
				}
			}
			// Never charged twice: the adapter made exactly one again call.
			if got := b.sb.Calls("POST /subscribe/payments/again"); got != 1 {
				t.Fatalf("again calls = %d, want 1", got)
			}
		})
	}
}

// A charge whose reply never comes (the PG approved it) is ErrUnknown, is
// not retried, and FindPayment then reports it paid — exactly once.
func TestChargeTimeoutThenFindPaid(t *testing.T) {
	t.Parallel()
	b := setupWith(t, bundleOptions{httpClient: &http.Client{Timeout: 300 * time.Millisecond}})
	b.mustWindowKey(t, "cus_slow")
	ctx := context.Background()
	start := time.Now()
	_, err := b.client.Charge(ctx, providers.ChargeRequest{OrderID: "pay_slow", BillingKey: "cus_slow", Amount: 15005})
	requireKind(t, err, providers.ErrUnknown)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Charge took %v: the client timeout was not honoured", d)
	}
	p, err := b.client.FindPayment(ctx, "pay_slow")
	if err != nil || p.Status != providers.StatusPaid || p.Amount != 15005 {
		t.Fatalf("FindPayment = %+v, %v", p, err)
	}
	if n := paidCount(b.sb, "pay_slow"); n != 1 {
		t.Fatalf("paid attempts = %d, want exactly 1", n)
	}
	if got := b.sb.Calls("POST /subscribe/payments/again"); got != 1 {
		t.Fatalf("again calls = %d, want 1 (no retry)", got)
	}
}

// Cancelling the request's context mid-charge is also ErrUnknown.
func TestChargeContextCancelledIsUnknown(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.mustWindowKey(t, "cus_ctx")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := b.client.Charge(ctx, providers.ChargeRequest{OrderID: "pay_ctx", BillingKey: "cus_ctx", Amount: 1005})
	requireKind(t, err, providers.ErrUnknown)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v does not unwrap to context.DeadlineExceeded", err)
	}
}

func TestDuplicateOrderRejected(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.mustWindowKey(t, "cus_dup")
	ctx := context.Background()
	req := providers.ChargeRequest{OrderID: "pay_dup", BillingKey: "cus_dup", Amount: 5000}
	first, err := b.client.Charge(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.client.Charge(ctx, req)
	pe := requireKind(t, err, providers.ErrRejected)
	if pe.PGCode == "" || pe.PGCode == "0" || pe.PGMessage == "" {
		t.Errorf("rejection carries no PG code/message: %+v", pe)
	}
	// The refusal carries the payment that already holds the order, so the
	// caller cannot take a paid order for a failed one.
	if pe.Payment == nil || pe.Payment.ProviderID != first.ProviderID || pe.Payment.Status != providers.StatusPaid {
		t.Errorf("rejection payment = %+v, want the first, paid one", pe.Payment)
	}
	if n := paidCount(b.sb, "pay_dup"); n != 1 {
		t.Fatalf("paid attempts = %d, want 1", n)
	}
	// After a decline the same order may be tried again.
	if _, err := b.client.Charge(ctx, providers.ChargeRequest{OrderID: "pay_retry", BillingKey: "cus_dup", Amount: 5004}); !errors.Is(err, providers.ErrDeclined) {
		t.Fatalf("first attempt: %v", err)
	}
	if p, err := b.client.Charge(ctx, providers.ChargeRequest{OrderID: "pay_retry", BillingKey: "cus_dup", Amount: 5000}); err != nil || p.Status != providers.StatusPaid {
		t.Fatalf("retry after decline = %+v, %v", p, err)
	}
	if p, err := b.client.FindPayment(ctx, "pay_retry"); err != nil || p.Status != providers.StatusPaid {
		t.Fatalf("find returns the newest attempt: %+v, %v", p, err)
	}
}

func TestChargeRefusedLocally(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		req  providers.ChargeRequest
	}{
		{"NoOrder", providers.ChargeRequest{BillingKey: "k", Amount: 1000}},
		{"NoKey", providers.ChargeRequest{OrderID: "o", Amount: 1000}},
		{"ZeroAmount", providers.ChargeRequest{OrderID: "o", BillingKey: "k"}},
		{"TaxFreeAboveAmount", providers.ChargeRequest{OrderID: "o", BillingKey: "k", Amount: 1000, TaxFree: 2000}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			_, err := b.client.Charge(context.Background(), tc.req)
			requireKind(t, err, providers.ErrRejected)
			if got := b.sb.TotalCalls(); got != 0 || b.client.TokenCalls() != 0 {
				t.Fatalf("sandbox saw %d calls for an invalid request", got)
			}
		})
	}
}

// TestCancel walks one payment through partial and full cancels, the way
// billingd refunds: with its own view of the refundable balance as checksum.
func TestCancel(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.mustWindowKey(t, "cus_cancel")
	ctx := context.Background()
	paid, err := b.client.Charge(ctx, providers.ChargeRequest{OrderID: "pay_cancel", BillingKey: "cus_cancel", Amount: 10000})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name          string
		req           providers.CancelRequest
		wantKind      error
		wantStatus    providers.PaymentStatus
		wantCancelled int64
	}{
		{"Partial", providers.CancelRequest{ProviderID: paid.ProviderID, Amount: 3000, Refundable: 10000, Reason: "부분환불"},
			nil, providers.StatusPaid, 3000},
		{"StaleChecksum", providers.CancelRequest{ProviderID: paid.ProviderID, Amount: 1000, Refundable: 10000},
			providers.ErrRejected, "", 0},
		{"OverBalance", providers.CancelRequest{OrderID: "pay_cancel", Amount: 8000},
			providers.ErrRejected, "", 0},
		{"PartialByOrderID", providers.CancelRequest{OrderID: "pay_cancel", Amount: 2000, Refundable: 7000},
			nil, providers.StatusPaid, 5000},
		{"FullRest", providers.CancelRequest{ProviderID: paid.ProviderID, Refundable: 5000, Reason: "전액환불"},
			nil, providers.StatusCancelled, 10000},
		{"AlreadyCancelled", providers.CancelRequest{ProviderID: paid.ProviderID},
			providers.ErrRejected, "", 0},
		{"NothingToCancel", providers.CancelRequest{OrderID: "pay_never"},
			providers.ErrRejected, "", 0},
	}
	for _, st := range steps { // sequential: each step builds on the last
		p, err := b.client.Cancel(ctx, st.req)
		if st.wantKind != nil {
			pe := requireKind(t, err, st.wantKind)
			if pe.PGCode == "" || pe.PGMessage == "" {
				t.Errorf("%s: no PG code/message: %+v", st.name, pe)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if p.Status != st.wantStatus || p.CancelledAmount != st.wantCancelled || p.CancelledAt.IsZero() {
			t.Fatalf("%s: payment = %+v", st.name, p)
		}
	}
	sp, _ := b.sb.Payment(paid.ProviderID)
	if len(sp.CancelHistory) != 3 || sp.Status != "cancelled" || sp.CancelAmount != 10000 {
		t.Fatalf("sandbox record = status %s cancel_amount %d history %d", sp.Status, sp.CancelAmount, len(sp.CancelHistory))
	}
}

// TestSecretsNeverInErrors provokes failures on every path that handles a
// secret and checks no error text carries one.
func TestSecretsNeverInErrors(t *testing.T) {
	t.Parallel()
	b := setupWith(t, bundleOptions{httpClient: &http.Client{Timeout: 300 * time.Millisecond}})
	b.mustWindowKey(t, "cus_secret")
	ctx := context.Background()
	const card = "4111222233330000" // refused by the sandbox
	var errs []error
	_, err := b.client.IssueBillingKey(ctx, providers.IssueBillingKeyRequest{Key: "cus_card", PG: "nice",
		Card: providers.CardData{Number: card, Expiry: "2030-12", Birth: "900101", Password2: "12"}})
	requireKind(t, err, providers.ErrDeclined)
	errs = append(errs, err)
	_, err = b.client.Charge(ctx, providers.ChargeRequest{OrderID: "pay_s1", BillingKey: "cus_secret", Amount: 1005})
	requireKind(t, err, providers.ErrUnknown)
	errs = append(errs, err)
	_, err = b.client.Charge(ctx, providers.ChargeRequest{OrderID: "pay_s2", BillingKey: "cus_none", Amount: 1000})
	errs = append(errs, err)
	_, err = b.client.Charge(ctx, providers.ChargeRequest{OrderID: "pay_s3", BillingKey: "cus_secret", Amount: 1008})
	errs = append(errs, err)
	token := b.rawToken(t) // the token the adapter has been using
	secrets := []string{testSecret, token, card, "4111-2222-3333-0000", "900101"}
	for _, err := range errs {
		if err == nil {
			t.Fatal("expected an error")
		}
		for _, s := range secrets {
			if strings.Contains(err.Error(), s) {
				t.Errorf("error %q contains a secret", err)
			}
		}
	}
}
