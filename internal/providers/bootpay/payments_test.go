package bootpay_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/providers"
	"github.com/billingd/billingd/internal/providers/bootpay"
)

// TestCharge runs the sandbox's amount table (sandbox/doc.go) through the
// adapter. Where the outcome is unknown, it reconciles the way billingd
// must with Bootpay: there is no lookup by order_id, so the receipt_id
// comes from Bootpay's webhook, and FindPayment must never claim
// "not found" before that.
func TestCharge(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		amount  int64
		kind    error // nil: paid
		settled providers.PaymentStatus
		paid    int // receipts paid at the PG for the order
		webhook bool
	}{
		{name: "Paid", amount: 10000, settled: providers.StatusPaid, paid: 1, webhook: true},
		{name: "Declined", amount: 10004, kind: providers.ErrDeclined, paid: 0},
		{name: "LostReply", amount: 10005, kind: providers.ErrUnknown, settled: providers.StatusPaid, paid: 1, webhook: true},
		{name: "ServerErrorAfterPaying", amount: 10006, kind: providers.ErrUnknown, settled: providers.StatusPaid, paid: 1, webhook: true},
		{name: "BadGateway", amount: 10007, kind: providers.ErrUnknown, paid: 0},
		{name: "StillApproving", amount: 10003, kind: providers.ErrUnknown, settled: providers.StatusPending, paid: 0},
	}
	for _, v := range versions {
		for _, tc := range cases {
			t.Run(v+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				b := setup(t, v, withTimeout(400*time.Millisecond))
				key := b.requireKey(t)
				rcv := newReceiver(t, v)
				ctx := context.Background()
				order := "pay_" + tc.name
				p, err := b.client.Charge(ctx, providers.ChargeRequest{OrderID: order, BillingKey: key, Amount: tc.amount,
					OrderName: "월간 구독", NoticeURL: rcv.srv.URL, Buyer: providers.Buyer{Name: "홍길동"}})

				if tc.kind == nil {
					if err != nil {
						t.Fatalf("Charge: %v", err)
					}
					if p.Status != providers.StatusPaid || p.Amount != tc.amount || p.OrderID != order || p.ProviderID == "" || p.PaidAt.IsZero() {
						t.Fatalf("payment = %+v", p)
					}
					if p.CardNumber == "" || p.CardNumber == "5570420400001074" {
						t.Fatalf("card number %q: want the masked number", p.CardNumber)
					}
				} else {
					pe := requireKind(t, err, tc.kind)
					requireNoSecrets(t, err.Error(), key)
					if tc.kind == providers.ErrDeclined {
						if pe.Payment == nil || pe.Payment.Status != providers.StatusFailed || pe.Payment.FailCode != "51" || pe.Payment.OrderID != order {
							t.Fatalf("declined payment = %+v", pe.Payment)
						}
					}
				}

				if tc.kind == providers.ErrUnknown {
					settled, err := b.client.FindPayment(ctx, order)
					switch {
					case tc.settled == providers.StatusPending:
						// The 200 reply carried the receipt: found, still pending.
						if err != nil || settled.Status != providers.StatusPending {
							t.Fatalf("FindPayment = %+v, %v; want pending", settled, err)
						}
					case errors.Is(err, providers.ErrNotFound):
						t.Fatalf("FindPayment said not found for an order whose outcome is unknown: %v", err)
					default:
						requireKind(t, err, providers.ErrUnknown)
						if !errors.Is(err, bootpay.ErrNoOrderLookup) {
							t.Fatalf("FindPayment error %v does not explain the missing order lookup", err)
						}
					}
				}

				if tc.webhook {
					w := rcv.next(t, order)
					b.client.RememberReceipt(w.OrderID, w.ReceiptID)
					settled, err := b.client.FindPayment(ctx, order)
					if err != nil {
						t.Fatalf("FindPayment after webhook: %v", err)
					}
					if settled.Status != tc.settled || settled.Amount != tc.amount || settled.OrderID != order {
						t.Fatalf("reconciled payment = %+v, want %s", settled, tc.settled)
					}
				}
				if n := b.sb.PaidCount(testAppID, order); n != tc.paid {
					t.Fatalf("PG recorded %d paid receipts for the order, want %d", n, tc.paid)
				}
			})
		}
	}
}

// Bootpay refuses a second payment for an order_id that is already paid,
// so even a misbehaving caller cannot charge an order twice.
func TestChargeSameOrderTwiceIsRejected(t *testing.T) {
	t.Parallel()
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			b := setup(t, v)
			key := b.requireKey(t)
			req := providers.ChargeRequest{OrderID: "pay_dup", BillingKey: key, Amount: 5000, OrderName: "x"}
			if _, err := b.client.Charge(context.Background(), req); err != nil {
				t.Fatalf("first Charge: %v", err)
			}
			_, err := b.client.Charge(context.Background(), req)
			requireKind(t, err, providers.ErrRejected)
			if n := b.sb.PaidCount(testAppID, "pay_dup"); n != 1 {
				t.Fatalf("paid %d times", n)
			}
		})
	}
}

func TestChargeInputRefusedLocally(t *testing.T) {
	t.Parallel()
	b := setup(t, bootpay.V2)
	for _, req := range []providers.ChargeRequest{
		{BillingKey: "k", Amount: 1000},
		{OrderID: "o", BillingKey: "k", Amount: 0},
		{OrderID: "o", BillingKey: "k", Amount: 1000, TaxFree: 1001},
	} {
		_, err := b.client.Charge(context.Background(), req)
		requireKind(t, err, providers.ErrRejected)
	}
	if n := b.client.TokenCalls(); n != 0 {
		t.Fatalf("bad input reached Bootpay (%d token calls)", n)
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			b := setup(t, v)
			ctx := context.Background()
			key := b.requireKey(t)
			paid, err := b.client.Charge(ctx, providers.ChargeRequest{OrderID: "pay_c", BillingKey: key, Amount: 10000, OrderName: "x"})
			if err != nil {
				t.Fatalf("Charge: %v", err)
			}

			p, err := b.client.Cancel(ctx, providers.CancelRequest{ProviderID: paid.ProviderID, OrderID: "pay_c", Amount: 3000,
				CancelID: "re_1", Reason: "부분 환불"})
			if err != nil {
				t.Fatalf("partial Cancel: %v", err)
			}
			if p.Status != providers.StatusPaid || p.CancelledAmount != 3000 || p.Amount != 10000 {
				t.Fatalf("after partial cancel: %+v", p)
			}

			// The same cancel_id again: refused, nothing refunded twice.
			_, err = b.client.Cancel(ctx, providers.CancelRequest{ProviderID: paid.ProviderID, Amount: 3000, CancelID: "re_1"})
			requireKind(t, err, providers.ErrRejected)
			if got, _ := b.client.GetPayment(ctx, paid.ProviderID); got.CancelledAmount != 3000 {
				t.Fatalf("cancelled amount after repeated cancel_id = %d, want 3000", got.CancelledAmount)
			}

			_, err = b.client.Cancel(ctx, providers.CancelRequest{ProviderID: paid.ProviderID, Amount: 8000, CancelID: "re_2"})
			requireKind(t, err, providers.ErrRejected) // over the balance

			// Full cancel of the rest, found by order id alone.
			p, err = b.client.Cancel(ctx, providers.CancelRequest{OrderID: "pay_c", CancelID: "re_3", Reason: "해지"})
			if err != nil {
				t.Fatalf("full Cancel: %v", err)
			}
			if p.Status != providers.StatusCancelled || p.CancelledAmount != 10000 {
				t.Fatalf("after full cancel: %+v", p)
			}
			got, err := b.client.GetPayment(ctx, paid.ProviderID)
			if err != nil || got.Status != providers.StatusCancelled || got.CancelledAt.IsZero() {
				t.Fatalf("GetPayment after full cancel = %+v, %v", got, err)
			}
			// v2 receipts say the sandbox is a test channel; v1's do not.
			if got.TestChannel != (v == bootpay.V2) {
				t.Fatalf("v%s receipt: test channel %v", v, got.TestChannel)
			}
			_, err = b.client.Cancel(ctx, providers.CancelRequest{ProviderID: paid.ProviderID, CancelID: "re_4"})
			requireKind(t, err, providers.ErrRejected)
		})
	}
}

func TestGetPaymentUnknownIsNotFound(t *testing.T) {
	t.Parallel()
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			b := setup(t, v)
			_, err := b.client.GetPayment(context.Background(), "ffffffffffffffffffffffff")
			requireKind(t, err, providers.ErrNotFound)
		})
	}
}

func ExampleParseWebhook() {
	w, err := bootpay.ParseWebhook("application/json",
		[]byte(`{"receipt_id":"6126f1f30d681b0027e5d603","order_id":"pay_1","price":1000,"status":1,"webhook_type":"PAYMENT_COMPLETED"}`))
	fmt.Println(w.ReceiptID, w.OrderID, w.Amount, w.Status, w.Type, err)
	// Output: 6126f1f30d681b0027e5d603 pay_1 1000 1 PAYMENT_COMPLETED <nil>
}

// Webhooks are unsigned. A forged hint — a receipt that does not exist, or
// another order's real receipt — must neither make FindPayment say "not
// found" nor steer a refund to the wrong payment.
func TestForgedWebhookHints(t *testing.T) {
	t.Parallel()
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			b := setup(t, v)
			ctx := context.Background()
			key := b.requireKey(t)
			other, err := b.client.Charge(ctx, providers.ChargeRequest{OrderID: "pay_other", BillingKey: key, Amount: 7000, OrderName: "x"})
			if err != nil {
				t.Fatalf("Charge: %v", err)
			}
			// pay_lost's reply was lost (502: nothing recorded); only forged hints arrive.
			c := b.newClient(t, nil)
			c.RememberReceipt("pay_lost", "aaaaaaaaaaaaaaaaaaaaaaaa")
			c.RememberReceipt("pay_lost", other.ProviderID)
			_, err = c.FindPayment(ctx, "pay_lost")
			requireKind(t, err, providers.ErrUnknown)
			if errors.Is(err, providers.ErrNotFound) {
				t.Fatalf("FindPayment on forged hints: %v", err)
			}
			_, err = c.Cancel(ctx, providers.CancelRequest{OrderID: "pay_lost", CancelID: "re_x"})
			requireKind(t, err, providers.ErrRejected)
			if p, _ := c.GetPayment(ctx, other.ProviderID); p.CancelledAmount != 0 {
				t.Fatal("a forged hint refunded another order's payment")
			}
			// The genuine hint, arriving later, still wins.
			c.RememberReceipt("pay_other", "bbbbbbbbbbbbbbbbbbbbbbbb")
			c.RememberReceipt("pay_other", other.ProviderID)
			if p, err := c.FindPayment(ctx, "pay_other"); err != nil || p.ProviderID != other.ProviderID {
				t.Fatalf("FindPayment = %+v, %v", p, err)
			}
		})
	}
}
