package store_test

import (
	"context"
	"io/fs"
	"testing"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/store"
	"github.com/billingd/billingd/internal/store/storetest"
	"github.com/billingd/billingd/migrations"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// mustMerchant creates a merchant for a test.
func mustMerchant(t *testing.T, s *store.Store) billing.Merchant {
	t.Helper()
	m, err := s.CreateMerchant(context.Background(), billing.Merchant{ID: billing.NewID(billing.PrefixMerchant), Name: "Test shop"})
	if err != nil {
		t.Fatalf("create merchant: %v", err)
	}
	return m
}

func mustCustomer(t *testing.T, s *store.Store, m billing.Merchant, mode billing.Mode, in billing.CustomerInput) billing.Customer {
	t.Helper()
	c := billing.Customer{ID: billing.NewID(billing.PrefixCustomer), MerchantID: m.ID, Mode: mode}
	if err := in.Apply(&c); err != nil {
		t.Fatalf("apply: %v", err)
	}
	c, err := s.CreateCustomer(context.Background(), c)
	if err != nil {
		t.Fatalf("create customer: %v", err)
	}
	return c
}

func requireCode(t *testing.T, err error, want billing.Code) {
	t.Helper()
	if got := billing.ErrorCode(err); err == nil || got != want {
		t.Fatalf("error = %v (code %s), want code %s", err, got, want)
	}
}

func TestMigrationsAtHead(t *testing.T) {
	t.Parallel()
	s := storetest.NewStore(t)
	st, err := s.Migrations(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !st.Ready() || st.Version != store.HeadVersion() || st.Head == 0 {
		t.Fatalf("migration status %+v, want ready at head", st)
	}
	// Down and up again: the down migrations are real. Versions are
	// assigned per branch, so the numbers may have gaps: step down by count.
	ctx := context.Background()
	ups, _ := fs.Glob(migrations.FS, "*.up.sql")
	if err := s.MigrateDown(ctx, len(ups)); err != nil {
		t.Fatalf("migrate down: %v", err)
	}
	if st, _ := s.Migrations(ctx); st.Ready() {
		t.Fatalf("after down, status %+v should not be ready", st)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate up again: %v", err)
	}
}
