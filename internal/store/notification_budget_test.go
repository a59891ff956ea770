package store_test

import (
	"errors"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestCountNotification: concurrent receipts of one account each get
// their own count (so a cap holds exactly), a rolled-back receipt is not
// counted, and windows and subjects are counted apart and pruned.
func TestCountNotification(t *testing.T) {
	t.Parallel()
	b := setupChargePath(t)
	ctx := t.Context()
	window := time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC)
	const n = 20
	var (
		mu  sync.Mutex
		got []int
		wg  sync.WaitGroup
	)
	for range n {
		wg.Go(func() {
			err := b.s.WithTx(ctx, func(tx pgx.Tx) error {
				c, err := b.s.CountNotification(ctx, tx, b.account.ID, "", window)
				mu.Lock()
				got = append(got, c)
				mu.Unlock()
				return err
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	sort.Ints(got)
	for i, c := range got {
		if c != i+1 {
			t.Fatalf("counts %v, want 1..%d each once", got, n)
		}
	}

	refused := errors.New("over the cap")
	if err := b.s.WithTx(ctx, func(tx pgx.Tx) error {
		if _, err := b.s.CountNotification(ctx, tx, b.account.ID, "", window); err != nil {
			return err
		}
		return refused
	}); !errors.Is(err, refused) {
		t.Fatal(err)
	}
	count := func(subject string, w time.Time) int {
		t.Helper()
		var c int
		if err := b.s.WithTx(ctx, func(tx pgx.Tx) error {
			var err error
			c, err = b.s.CountNotification(ctx, tx, b.account.ID, subject, w)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return c
	}
	if c := count("", window); c != n+1 {
		t.Fatalf("after a rollback the count is %d, want %d", c, n+1)
	}
	next := window.Add(time.Minute)
	if c := count("", next); c != 1 {
		t.Fatalf("the next window starts at %d", c)
	}
	if c := count("pay_1", window); c != 1 {
		t.Fatalf("another subject starts at %d", c)
	}
	if deleted, err := b.s.DeleteNotificationWindowsBefore(ctx, next); err != nil || deleted != 2 {
		t.Fatalf("pruned %d windows (%v), want the past two", deleted, err)
	}
	if c := count("", window); c != 1 {
		t.Fatalf("a pruned window counts on from %d", c)
	}
}
