package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/audit"
	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/store"
	"github.com/billingd/billingd/internal/store/storetest"
)

func operator(ctx context.Context) context.Context {
	return audit.WithActor(ctx, audit.Actor{Type: audit.ActorConsole, ID: "alice", SourceIP: "192.0.2.1", RequestID: "req_1"})
}

func auditRows(t *testing.T, s *store.Store, f store.AuditFilter) []audit.Event {
	t.Helper()
	if f.Limit == 0 {
		f.Limit = 100
	}
	list, _, err := s.ListAuditEvents(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// TestAuditCommitsWithTheChange proves an audit row and its change commit or
// roll back together, whichever of the two fails.
func TestAuditCommitsWithTheChange(t *testing.T) {
	t.Parallel()

	t.Run("BothCommit", func(t *testing.T) {
		t.Parallel()
		s := storetest.NewStore(t)
		m, err := s.CreateMerchant(operator(context.Background()), billing.Merchant{ID: billing.NewID(billing.PrefixMerchant), Name: "Shop"})
		if err != nil {
			t.Fatal(err)
		}
		rows := auditRows(t, s, store.AuditFilter{ObjectID: m.ID})
		if len(rows) != 1 || rows[0].Action != "merchant.created" || rows[0].ActorID != "alice" || rows[0].ActorType != "console" ||
			rows[0].SourceIP != "192.0.2.1" || rows[0].RequestID != "req_1" || rows[0].MerchantID != m.ID {
			t.Fatalf("audit rows %+v", rows)
		}
	})

	t.Run("NoActorNoRow", func(t *testing.T) {
		t.Parallel()
		s := storetest.NewStore(t)
		m := mustMerchant(t, s) // a background context: the system's own work
		if rows := auditRows(t, s, store.AuditFilter{ObjectID: m.ID}); len(rows) != 0 {
			t.Fatalf("audit rows without an actor: %+v", rows)
		}
	})

	t.Run("FailedChangeLeavesNoRow", func(t *testing.T) {
		t.Parallel()
		s := storetest.NewStore(t)
		m := mustMerchant(t, s)
		ctx := operator(context.Background())
		mustCustomer(t, s, m, billing.ModeTest, billing.CustomerInput{ExternalID: billing.Set("u1")})
		dup := billing.Customer{ID: billing.NewID(billing.PrefixCustomer), MerchantID: m.ID, Mode: billing.ModeTest, ExternalID: ptr("u1")}
		if _, err := s.CreateCustomer(ctx, dup); billing.ErrorCode(err) != billing.EConflict {
			t.Fatalf("duplicate customer: %v", err)
		}
		if rows := auditRows(t, s, store.AuditFilter{ObjectID: dup.ID}); len(rows) != 0 {
			t.Fatalf("a refused change was audited: %+v", rows)
		}
	})

	t.Run("FailedAuditUndoesTheChange", func(t *testing.T) {
		t.Parallel()
		s := storetest.NewStore(t)
		// An actor type the table refuses makes the audit insert fail.
		ctx := audit.WithActor(context.Background(), audit.Actor{Type: "nobody", ID: "x"})
		id := billing.NewID(billing.PrefixMerchant)
		if _, err := s.CreateMerchant(ctx, billing.Merchant{ID: id, Name: "Shop"}); err == nil {
			t.Fatal("the merchant was created without its audit row")
		}
		if _, err := s.GetMerchant(context.Background(), id); billing.ErrorCode(err) != billing.ENotFound {
			t.Fatalf("merchant after a failed audit: %v", err)
		}
	})

	t.Run("EventAndAuditShareTheTransaction", func(t *testing.T) {
		t.Parallel()
		s := storetest.NewStore(t)
		m := mustMerchant(t, s)
		ctx := operator(context.Background())
		ev := billing.NewEvent(m.ID, billing.ModeTest, billing.EventPaymentRefunded, "payment", "pay_x",
			map[string]any{"status": "refunded", "amount": 5000, "card_number": "5365-10**-****-7890", "metadata": map[string]any{"a": 1}})
		rollback := errors.New("roll back")
		err := s.WithTx(ctx, func(tx pgx.Tx) error {
			if err := s.InsertEvent(ctx, tx, ev); err != nil {
				return err
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatal(err)
		}
		if rows := auditRows(t, s, store.AuditFilter{ObjectID: "pay_x"}); len(rows) != 0 {
			t.Fatalf("audit row of a rolled-back change: %+v", rows)
		}
		ev.ID = billing.NewID(billing.PrefixEvent)
		if err := s.WithTx(ctx, func(tx pgx.Tx) error { return s.InsertEvent(ctx, tx, ev) }); err != nil {
			t.Fatal(err)
		}
		rows := auditRows(t, s, store.AuditFilter{ObjectID: "pay_x"})
		if len(rows) != 1 || rows[0].Action != "payment.refunded" {
			t.Fatalf("audit rows %+v", rows)
		}
		if got := rows[0].Summary; len(got) != 2 || got["status"] != "refunded" || got["amount"] != float64(5000) {
			t.Fatalf("summary %v keeps more than states and amounts", got)
		}
	})

	t.Run("AppendOnly", func(t *testing.T) {
		t.Parallel()
		s := storetest.NewStore(t)
		m, err := s.CreateMerchant(operator(context.Background()), billing.Merchant{ID: billing.NewID(billing.PrefixMerchant), Name: "Shop"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Pool().Exec(context.Background(), `UPDATE audit_events SET actor_id = 'mallory' WHERE object_id = $1`, m.ID)
		if err == nil {
			t.Fatal("an audit row was rewritten")
		}
	})
}

func TestAuditListAndPrune(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	ctx := operator(context.Background())
	var ids []string
	for range 3 {
		m, err := s.CreateMerchant(ctx, billing.Merchant{ID: billing.NewID(billing.PrefixMerchant), Name: "Shop"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	first, more, err := s.ListAuditEvents(context.Background(), store.AuditFilter{Page: store.Page{Limit: 2}, Action: "merchant.created"})
	if err != nil || !more || len(first) != 2 || first[0].ObjectID != ids[2] {
		t.Fatalf("first page %+v more=%v err=%v", first, more, err)
	}
	rest, more, err := s.ListAuditEvents(context.Background(), store.AuditFilter{Page: store.Page{Limit: 2, StartingAfter: first[1].ID}})
	if err != nil || more || len(rest) != 1 || rest[0].ObjectID != ids[0] {
		t.Fatalf("second page %+v more=%v err=%v", rest, more, err)
	}
	if rows := auditRows(t, s, store.AuditFilter{ActorID: "bob"}); len(rows) != 0 {
		t.Fatalf("actor filter: %+v", rows)
	}
	future := time.Now().Add(time.Hour)
	if rows := auditRows(t, s, store.AuditFilter{Since: &future}); len(rows) != 0 {
		t.Fatalf("time filter: %+v", rows)
	}
	n, err := s.PruneAuditEvents(context.Background(), time.Now().Add(-time.Hour), 100)
	if err != nil || n != 0 {
		t.Fatalf("pruned %d recent rows: %v", n, err)
	}
	n, err = s.PruneAuditEvents(context.Background(), future, 100)
	if err != nil || n != 3 {
		t.Fatalf("pruned %d of 3 old rows: %v", n, err)
	}
}

func ptr[T any](v T) *T { return &v }
