package bootpay_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/providers"
	"github.com/billingd/billingd/internal/providers/bootpay"
)

func TestReserve(t *testing.T) {
	t.Parallel()
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			b := setup(t, v)
			ctx := context.Background()
			key := b.requireKey(t)
			rcv := newReceiver(t, v)
			rcv.fails.Store(1) // the first delivery attempt is refused; Bootpay retries

			at := b.sb.Now().Add(time.Hour)
			kept, err := b.client.Reserve(ctx, bootpay.ReserveRequest{BillingKey: key, OrderID: "pay_next", Amount: 29000,
				OrderName: "3월 구독", At: at, FeedbackURL: rcv.srv.URL})
			if err != nil || kept == "" {
				t.Fatalf("Reserve: %q, %v", kept, err)
			}
			dropped, err := b.client.Reserve(ctx, bootpay.ReserveRequest{BillingKey: key, OrderID: "pay_dropped", Amount: 29000,
				OrderName: "3월 구독", At: at, FeedbackURL: rcv.srv.URL})
			if err != nil {
				t.Fatalf("second Reserve: %v", err)
			}
			if err := b.client.CancelReserve(ctx, dropped); err != nil {
				t.Fatalf("CancelReserve: %v", err)
			}
			requireKind(t, b.client.CancelReserve(ctx, dropped), providers.ErrRejected)
			requireKind(t, b.client.CancelReserve(ctx, "ffffffffffffffffffffffff"), providers.ErrNotFound)

			if n := b.sb.RunDue(ctx); n != 0 {
				t.Fatalf("RunDue before the time ran %d", n)
			}
			b.sb.Advance(61 * time.Minute)
			if n := b.sb.RunDue(ctx); n != 1 {
				t.Fatalf("RunDue ran %d reservations, want 1", n)
			}

			// The webhook is a hint: take its receipt_id, then ask Bootpay.
			w := rcv.next(t, "pay_next")
			p, err := b.client.GetPayment(ctx, w.ReceiptID)
			if err != nil {
				t.Fatalf("GetPayment: %v", err)
			}
			if p.Status != providers.StatusPaid || p.OrderID != "pay_next" || p.Amount != 29000 {
				t.Fatalf("reserved payment = %+v", p)
			}
			if b.sb.PaidCount(testAppID, "pay_next") != 1 || b.sb.PaidCount(testAppID, "pay_dropped") != 0 {
				t.Fatal("reservations charged the wrong orders")
			}
			requireKind(t, b.client.CancelReserve(ctx, kept), providers.ErrRejected) // already ran

			if v == bootpay.V2 {
				r, err := b.client.LookupReserve(ctx, kept)
				if err != nil || r.Status != bootpay.ReserveDone || r.ReceiptID != w.ReceiptID {
					t.Fatalf("LookupReserve = %+v, %v", r, err)
				}
			} else {
				_, err := b.client.LookupReserve(ctx, kept)
				if !errors.Is(err, bootpay.ErrUnsupported) {
					t.Fatalf("v1 LookupReserve: %v", err)
				}
			}
		})
	}
}

// Deleting a key does not cancel its reservations at Bootpay; they fail
// when run, charging nothing.
func TestReserveWithDeletedKeyFails(t *testing.T) {
	t.Parallel()
	b := setup(t, bootpay.V2)
	ctx := context.Background()
	key := b.requireKey(t)
	id, err := b.client.Reserve(ctx, bootpay.ReserveRequest{BillingKey: key, OrderID: "pay_gone", Amount: 1000, OrderName: "x",
		At: b.sb.Now().Add(time.Minute)})
	if err != nil {
		t.Fatalf("Reserve: %v", err)
	}
	if err := b.client.DeleteBillingKey(ctx, key); err != nil {
		t.Fatalf("DeleteBillingKey: %v", err)
	}
	b.sb.Advance(2 * time.Minute)
	b.sb.RunDue(ctx)
	r, err := b.client.LookupReserve(ctx, id)
	if err != nil || r.Status != bootpay.ReserveFailed || r.ReceiptID != "" {
		t.Fatalf("LookupReserve = %+v, %v", r, err)
	}
}
