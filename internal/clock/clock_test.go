package clock

import (
	"errors"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/billing"
)

func TestAdvanceMovesOnlyTestMode(t *testing.T) {
	t.Parallel()
	c := New()
	target := time.Now().Add(400 * 24 * time.Hour)
	if err := c.AdvanceTestTo(target); err != nil {
		t.Fatal(err)
	}
	if got := c.Now(billing.ModeTest); got.Before(target) || got.Sub(target) > time.Second {
		t.Fatalf("test now %s, want about %s", got, target)
	}
	if live := c.Now(billing.ModeLive); live.Sub(time.Now()) > time.Second {
		t.Fatalf("live mode moved: %s", live)
	}
	if err := c.AdvanceTestTo(target.Add(-time.Hour)); !errors.Is(err, ErrBackwards) {
		t.Fatalf("moving back: %v", err)
	}
}
