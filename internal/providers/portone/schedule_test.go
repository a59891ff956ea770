package portone_test

import (
	"context"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/providers"
)

func TestSchedule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("RunsOnTheSandboxClock", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		key := b.mustKey(t, "bk_reg1", "cus_1")
		at := b.sb.Now().Add(24 * time.Hour)
		paid, err := b.client.Schedule(ctx, providers.ScheduleRequest{OrderID: "pay_s1", BillingKey: key, At: at, Amount: 9900, OrderName: "구독"})
		if err != nil || paid == "" {
			t.Fatalf("Schedule: %q %v", paid, err)
		}
		declined, err := b.client.Schedule(ctx, providers.ScheduleRequest{OrderID: "pay_s2", BillingKey: key, At: at, Amount: 9904, OrderName: "구독"})
		if err != nil {
			t.Fatal(err)
		}
		if s, err := b.client.LookupSchedule(ctx, "pay_s1", paid); err != nil || s.State != providers.SchedulePending {
			t.Fatalf("before its time: %+v %v", s, err)
		}
		if n := b.sb.RunDue(ctx); n != 0 {
			t.Fatalf("%d schedules ran early", n)
		}
		b.sb.Advance(at)
		if n := b.sb.RunDue(ctx); n != 2 {
			t.Fatalf("RunDue ran %d", n)
		}
		for id, want := range map[string]providers.PaymentStatus{paid: providers.StatusPaid, declined: providers.StatusFailed} {
			order := map[string]string{paid: "pay_s1", declined: "pay_s2"}[id]
			s, err := b.client.LookupSchedule(ctx, order, id)
			if err != nil || s.State != providers.ScheduleExecuted || s.ProviderPaymentID != order {
				t.Fatalf("after the run: %+v %v", s, err)
			}
			p, err := b.client.GetPayment(ctx, s.ProviderPaymentID)
			if err != nil || p.Status != want || p.OrderID != order || p.Amount%10 != map[string]int64{"pay_s1": 0, "pay_s2": 4}[order] {
				t.Fatalf("%s: %+v %v", order, p, err)
			}
		}
		if err := b.client.Unschedule(ctx, key, "pay_s1", paid); err == nil {
			t.Fatal("unscheduling a run schedule succeeded")
		} else if pe := requireKind(t, err, providers.ErrRejected); pe.PGCode != "PAYMENT_SCHEDULE_ALREADY_PROCESSED" {
			t.Fatalf("PGCode = %q", pe.PGCode)
		}
		if hooks := b.received("Transaction.Paid"); len(hooks) != 1 || hooks[0].PaymentID != "pay_s1" {
			t.Fatalf("Transaction.Paid webhooks = %+v (refused %v)", hooks, b.hooks.refused)
		}
		if hooks := b.received("Transaction.Failed"); len(hooks) != 1 || hooks[0].PaymentID != "pay_s2" {
			t.Fatalf("Transaction.Failed webhooks = %+v", hooks)
		}
	})

	t.Run("Unschedule", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		key := b.mustKey(t, "bk_reg1", "cus_1")
		at := b.sb.Now().Add(time.Hour)
		id, err := b.client.Schedule(ctx, providers.ScheduleRequest{OrderID: "pay_s1", BillingKey: key, At: at, Amount: 1000})
		if err != nil {
			t.Fatal(err)
		}
		other, err := b.client.Schedule(ctx, providers.ScheduleRequest{OrderID: "pay_s2", BillingKey: key, At: at, Amount: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.client.Unschedule(ctx, key, "pay_s1", id); err != nil {
			t.Fatalf("Unschedule: %v", err)
		}
		if s, err := b.client.LookupSchedule(ctx, "pay_s1", id); err != nil || s.State != providers.ScheduleRevoked {
			t.Fatalf("after unschedule: %+v %v", s, err)
		}
		// Only the one named: the key's other schedule stands.
		if s, err := b.client.LookupSchedule(ctx, "pay_s2", other); err != nil || s.State != providers.SchedulePending {
			t.Fatalf("the other schedule: %+v %v", s, err)
		}
		pe := requireKind(t, b.client.Unschedule(ctx, key, "pay_s1", id), providers.ErrRejected)
		if pe.PGCode != "PAYMENT_SCHEDULE_ALREADY_REVOKED" {
			t.Fatalf("PGCode = %q", pe.PGCode)
		}
		b.sb.Advance(at)
		if n := b.sb.RunDue(ctx); n != 1 {
			t.Fatalf("RunDue ran %d, want only the schedule left", n)
		}
		if n := len(b.sb.Attempts("pay_s1")); n != 0 {
			t.Fatalf("a revoked schedule charged %d times", n)
		}
	})

	// The schedule's reply was lost: billingd has no schedule id. The
	// schedule is still found by its payment id, revoked, and a second
	// Schedule returns the first one's id instead of failing.
	t.Run("WithoutScheduleID", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		key := b.mustKey(t, "bk_reg1", "cus_1")
		at := b.sb.Now().Add(48 * time.Hour)
		req := providers.ScheduleRequest{OrderID: "pay_lost", BillingKey: key, At: at, Amount: 1000}
		id, err := b.client.Schedule(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := b.client.Schedule(ctx, req); err != nil || again != id {
			t.Fatalf("repeated Schedule: %q %v, want %q", again, err, id)
		}
		if s, err := b.client.LookupSchedule(ctx, "pay_lost", ""); err != nil || s.State != providers.SchedulePending {
			t.Fatalf("lookup without id: %+v %v", s, err)
		}
		if err := b.client.Unschedule(ctx, key, "pay_lost", ""); err != nil {
			t.Fatalf("unschedule without id: %v", err)
		}
		if s, err := b.client.LookupSchedule(ctx, "pay_lost", ""); err != nil || s.State != providers.ScheduleRevoked {
			t.Fatalf("after unschedule: %+v %v", s, err)
		}

		id2, err := b.client.Schedule(ctx, providers.ScheduleRequest{OrderID: "pay_run", BillingKey: key, At: at, Amount: 2000})
		if err != nil {
			t.Fatal(err)
		}
		b.sb.Advance(at)
		b.sb.RunDue(ctx)
		s, err := b.client.LookupSchedule(ctx, "pay_run", "")
		if err != nil || s.State != providers.ScheduleExecuted || s.ProviderPaymentID != "pay_run" {
			t.Fatalf("run, looked up without id: %+v %v (id %s)", s, err, id2)
		}
	})

	t.Run("Refusals", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		key := b.mustKey(t, "bk_reg1", "cus_1")
		_, err := b.client.Schedule(ctx, providers.ScheduleRequest{OrderID: "pay_past", BillingKey: key, At: b.sb.Now().Add(-time.Minute), Amount: 1000})
		if pe := requireKind(t, err, providers.ErrRejected); pe.PGCode != "INVALID_REQUEST" {
			t.Fatalf("past: %v", err)
		}
		if _, err := b.client.Charge(ctx, providers.ChargeRequest{OrderID: "pay_paid", BillingKey: key, Amount: 1000}); err != nil {
			t.Fatal(err)
		}
		_, err = b.client.Schedule(ctx, providers.ScheduleRequest{OrderID: "pay_paid", BillingKey: key, At: b.sb.Now().Add(time.Hour), Amount: 1000})
		if pe := requireKind(t, err, providers.ErrRejected); pe.PGCode != "ALREADY_PAID_OR_WAITING" {
			t.Fatalf("paid id: %v", err)
		}
		_, err = b.client.LookupSchedule(ctx, "pay_none", "schedule-nobody")
		requireKind(t, err, providers.ErrNotFound)
		_, err = b.client.LookupSchedule(ctx, "pay_none", "")
		requireKind(t, err, providers.ErrNotFound)
		id, err := b.client.Schedule(ctx, providers.ScheduleRequest{OrderID: "pay_mine", BillingKey: key, At: b.sb.Now().Add(time.Hour), Amount: 1000})
		if err != nil {
			t.Fatal(err)
		}
		_, err = b.client.LookupSchedule(ctx, "pay_someone_else", id)
		requireKind(t, err, providers.ErrUnknown)
	})
}
