package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/store"
	"github.com/billingd/billingd/internal/store/storetest"
)

func TestCustomers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("ScopedByMerchantAndMode", func(t *testing.T) {
		t.Parallel()
		s := storetest.NewStore(t)
		a, b := mustMerchant(t, s), mustMerchant(t, s)
		c := mustCustomer(t, s, a, billing.ModeTest, billing.CustomerInput{Name: billing.Set("홍길동")})

		if _, err := s.GetCustomer(ctx, a.ID, billing.ModeTest, c.ID); err != nil {
			t.Fatalf("owner cannot read: %v", err)
		}
		_, err := s.GetCustomer(ctx, b.ID, billing.ModeTest, c.ID)
		requireCode(t, err, billing.ENotFound)
		_, err = s.GetCustomer(ctx, a.ID, billing.ModeLive, c.ID)
		requireCode(t, err, billing.ENotFound)
		requireCode(t, s.DeleteCustomer(ctx, b.ID, billing.ModeTest, c.ID), billing.ENotFound)
		_, err = s.UpdateCustomer(ctx, b.ID, billing.ModeTest, c.ID, billing.CustomerInput{Name: billing.Set("x")})
		requireCode(t, err, billing.ENotFound)
	})

	t.Run("ExternalIDConflictNamesExisting", func(t *testing.T) {
		t.Parallel()
		s := storetest.NewStore(t)
		m := mustMerchant(t, s)
		first := mustCustomer(t, s, m, billing.ModeTest, billing.CustomerInput{ExternalID: billing.Set("user-1")})

		dup := billing.Customer{ID: billing.NewID(billing.PrefixCustomer), MerchantID: m.ID, Mode: billing.ModeTest}
		_ = billing.CustomerInput{ExternalID: billing.Set("user-1")}.Apply(&dup)
		_, err := s.CreateCustomer(ctx, dup)
		requireCode(t, err, billing.EConflict)
		if !strings.Contains(err.Error(), first.ID) {
			t.Fatalf("conflict %q does not name %s", err, first.ID)
		}
		// The same external_id in live mode is another customer.
		mustCustomer(t, s, m, billing.ModeLive, billing.CustomerInput{ExternalID: billing.Set("user-1")})
		// After a delete the external_id is free again.
		if err := s.DeleteCustomer(ctx, m.ID, billing.ModeTest, first.ID); err != nil {
			t.Fatal(err)
		}
		mustCustomer(t, s, m, billing.ModeTest, billing.CustomerInput{ExternalID: billing.Set("user-1")})
	})

	t.Run("UpdateIsAllOrNothing", func(t *testing.T) {
		t.Parallel()
		s := storetest.NewStore(t)
		m := mustMerchant(t, s)
		c := mustCustomer(t, s, m, billing.ModeTest, billing.CustomerInput{Name: billing.Set("Kim"), Email: billing.Set("kim@example.com")})
		_, err := s.UpdateCustomer(ctx, m.ID, billing.ModeTest, c.ID, billing.CustomerInput{
			Name: billing.Set("Lee"), Email: billing.Set("not an email"),
		})
		requireCode(t, err, billing.EInvalid)
		got, _ := s.GetCustomer(ctx, m.ID, billing.ModeTest, c.ID)
		if *got.Name != "Kim" {
			t.Fatalf("a failed update changed the name to %q", *got.Name)
		}
		got, err = s.UpdateCustomer(ctx, m.ID, billing.ModeTest, c.ID, billing.CustomerInput{
			Name: billing.Set("Lee"), Email: billing.Field[string]{Present: true, Null: true},
		})
		if err != nil || *got.Name != "Lee" || got.Email != nil {
			t.Fatalf("update = %+v, %v", got, err)
		}
	})

	t.Run("ListPagesNewestFirst", func(t *testing.T) {
		t.Parallel()
		s := storetest.NewStore(t)
		m := mustMerchant(t, s)
		var ids []string
		for range 5 {
			ids = append(ids, mustCustomer(t, s, m, billing.ModeTest, billing.CustomerInput{}).ID)
		}
		var seen []string
		page := store.Page{Limit: 2}
		for {
			list, more, err := s.ListCustomers(ctx, m.ID, billing.ModeTest, store.CustomerFilter{Page: page})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range list {
				seen = append(seen, c.ID)
			}
			if !more {
				break
			}
			page.StartingAfter = list[len(list)-1].ID
		}
		if len(seen) != 5 {
			t.Fatalf("paged through %d customers, want 5", len(seen))
		}
		for i := range seen {
			if seen[i] != ids[len(ids)-1-i] {
				t.Fatalf("order %v, want newest first of %v", seen, ids)
			}
		}
	})
}
