package api

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/billing"
)

func TestKeyCache(t *testing.T) {
	t.Parallel()

	// fakeLookup counts lookups; keys in valid authenticate.
	type fakeLookup struct {
		valid map[string]billing.APIKey
		calls int
	}
	setup := func() (*keyCache, *fakeLookup, *time.Time) {
		now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
		c := newKeyCache(5 * time.Second)
		c.now = func() time.Time { return now }
		return c, &fakeLookup{valid: map[string]billing.APIKey{"sk_a": {ID: "key_a", MerchantID: "mer_1"}}}, &now
	}
	lookupOf := func(f *fakeLookup) func(context.Context, string) (billing.APIKey, error) {
		return func(_ context.Context, token string) (billing.APIKey, error) {
			f.calls++
			if k, ok := f.valid[token]; ok {
				return k, nil
			}
			return billing.APIKey{}, errors.New("invalid API key")
		}
	}

	t.Run("OneLookupPerTTL", func(t *testing.T) {
		t.Parallel()
		c, f, now := setup()
		for range 3 {
			if k, err := c.authenticate(t.Context(), "sk_a", lookupOf(f)); err != nil || k.ID != "key_a" {
				t.Fatalf("authenticate = %+v, %v", k, err)
			}
		}
		if f.calls != 1 {
			t.Fatalf("%d lookups within the TTL, want 1", f.calls)
		}
		// Revoked meanwhile: still accepted until the entry expires, then not.
		delete(f.valid, "sk_a")
		*now = now.Add(4 * time.Second)
		if _, err := c.authenticate(t.Context(), "sk_a", lookupOf(f)); err != nil {
			t.Fatalf("inside the TTL: %v", err)
		}
		*now = now.Add(2 * time.Second)
		if _, err := c.authenticate(t.Context(), "sk_a", lookupOf(f)); err == nil {
			t.Fatal("a revoked key still authenticates after the TTL")
		}
	})

	t.Run("FailuresAreNotCached", func(t *testing.T) {
		t.Parallel()
		c, f, _ := setup()
		for range 3 {
			if _, err := c.authenticate(t.Context(), "sk_unknown", lookupOf(f)); err == nil {
				t.Fatal("an unknown key authenticated")
			}
		}
		if f.calls != 3 || len(c.m) != 0 {
			t.Fatalf("%d lookups, %d cached, want 3 and 0", f.calls, len(c.m))
		}
	})

	t.Run("ForgetRevokesAtOnce", func(t *testing.T) {
		t.Parallel()
		c, f, _ := setup()
		if _, err := c.authenticate(t.Context(), "sk_a", lookupOf(f)); err != nil {
			t.Fatal(err)
		}
		delete(f.valid, "sk_a")
		c.forget("key_a")
		if _, err := c.authenticate(t.Context(), "sk_a", lookupOf(f)); err == nil {
			t.Fatal("a forgotten key still authenticates")
		}
	})

	t.Run("Off", func(t *testing.T) {
		t.Parallel()
		var c *keyCache = newKeyCache(0)
		_, f, _ := setup()
		for range 2 {
			if _, err := c.authenticate(t.Context(), "sk_a", lookupOf(f)); err != nil {
				t.Fatal(err)
			}
		}
		c.forget("key_a") // a no-op, not a panic
		if f.calls != 2 {
			t.Fatalf("%d lookups with the cache off, want 2", f.calls)
		}
	})
}

// TestRevokedKeyWithCache: the replica whose operator API revokes a key
// stops accepting it at once, cache or not.
func TestRevokedKeyWithCache(t *testing.T) {
	t.Parallel()
	b := setupWith(t, bundleOpts{apiKeyCacheTTL: time.Minute})
	m := b.newMerchant(t)
	key := b.newKey(t, m.id, "secret", "test")
	requireStatus(t, b.do(t, request{method: "GET", path: "/v1/customers", auth: key}), http.StatusOK)
	keys := b.do(t, request{method: "GET", path: "/admin/v1/merchants/" + m.id + "/keys", auth: testAdminToken})
	var keyID string
	for _, k := range keys.body["data"].([]any) {
		if k := k.(map[string]any); k["hint"] == key[len(key)-4:] {
			keyID = k["id"].(string)
		}
	}
	requireStatus(t, b.do(t, request{method: "DELETE", path: "/admin/v1/keys/" + keyID, auth: testAdminToken}), http.StatusOK)
	requireStatus(t, b.do(t, request{method: "GET", path: "/v1/customers", auth: key}), http.StatusUnauthorized)
	requireStatus(t, b.do(t, request{method: "GET", path: "/v1/customers", auth: m.secret}), http.StatusOK)
}
