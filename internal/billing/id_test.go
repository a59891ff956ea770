package billing

import (
	"errors"
	"sort"
	"testing"
)

func asError(err error, target **Error) bool { return errors.As(err, target) }

func TestNewIDSortsByCreation(t *testing.T) {
	t.Parallel()
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = NewID(PrefixCustomer)
	}
	if !sort.StringsAreSorted(ids) {
		t.Fatal("ids made one after another do not sort in creation order")
	}
	for _, id := range ids[:5] {
		if len(id) != len(PrefixCustomer)+26 || !ValidID(PrefixCustomer, id) {
			t.Fatalf("id %q", id)
		}
	}
}

func TestValidID(t *testing.T) {
	t.Parallel()
	good := NewID(PrefixCustomer)
	for _, tt := range []struct {
		id   string
		want bool
	}{
		{good, true},
		{"pay_" + good[4:], false},                     // wrong prefix
		{good[:len(good)-1], false},                    // short
		{good + "0", false},                            // long
		{"cus_" + "UUUUUUUUUUUUUUUUUUUUUUUUUU", false}, // not in the alphabet
		{"", false},
	} {
		if got := ValidID(PrefixCustomer, tt.id); got != tt.want {
			t.Errorf("ValidID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestNewAPIKey(t *testing.T) {
	t.Parallel()
	k, secret := NewAPIKey("mer_x", KeyPublishable, ModeLive)
	if !LooksLikeAPIKey(secret) || secret[:8] != "pk_live_" {
		t.Fatalf("key %q", secret)
	}
	if string(k.Hash) != string(HashAPIKey(secret)) || k.Hint != secret[len(secret)-4:] {
		t.Fatal("stored hash or hint does not match the key")
	}
	if _, other := NewAPIKey("mer_x", KeyPublishable, ModeLive); other == secret {
		t.Fatal("two keys are equal")
	}
}
