package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/billingd/billingd/internal/audit"
	"github.com/billingd/billingd/internal/billing"
)

type principalKey struct{}

// principal is who is calling: a merchant, in one mode, with one key.
type principal struct {
	MerchantID string
	Mode       billing.Mode
	KeyID      string
	Kind       billing.KeyKind
}

func principalFrom(ctx context.Context) principal {
	p, _ := ctx.Value(principalKey{}).(principal)
	return p
}

// bearer extracts the token of an "Authorization: Bearer …" header.
func bearer(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// authenticate resolves the API key to a merchant and mode. Unknown and
// revoked keys are indistinguishable 401s.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			// A CORS preflight carries no credentials; only the preflight
			// routes answer OPTIONS, and they do nothing.
			next.ServeHTTP(w, r)
			return
		}
		token, ok := bearer(r)
		if !ok {
			renderError(w, r, &billing.Error{Code: billing.EUnauthorized, Reason: "api_key_missing",
				Message: "send your API key as Authorization: Bearer sk_test_…"})
			return
		}
		if !billing.LooksLikeAPIKey(token) {
			renderError(w, r, &billing.Error{Code: billing.EUnauthorized, Reason: "api_key_invalid", Message: "invalid API key"})
			return
		}
		key, err := s.apiKeys.authenticate(r.Context(), token, s.store.Authenticate)
		if err != nil {
			renderError(w, r, err)
			return
		}
		p := principal{MerchantID: key.MerchantID, Mode: key.Mode, KeyID: key.ID, Kind: key.Kind}
		ctx := withActor(r, audit.ActorAPIKey, key.ID)
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, principalKey{}, p)))
	})
}

// keyCache remembers the keys that authenticated, by the SHA-256 of the key,
// for a short TTL (BILLINGD_API_KEY_CACHE_TTL), so a merchant sending
// hundreds of requests a second costs one database lookup per key per TTL
// instead of one per request.
//
// The price is revocation: a revoked key keeps working until its entry
// expires — at most the TTL — on every replica but the one whose operator
// API revoked it, which forgets it at once. Unknown and revoked keys are
// never cached: each attempt with one is looked up. A nil *keyCache (TTL 0)
// looks every request up.
type keyCache struct {
	ttl time.Duration
	now func() time.Time

	mu sync.RWMutex
	m  map[[sha256.Size]byte]cachedKey
}

type cachedKey struct {
	key     billing.APIKey
	expires time.Time
}

// maxCachedKeys bounds the cache; only keys that authenticated get in, so
// reaching it takes that many live keys in one TTL.
const maxCachedKeys = 10_000

func newKeyCache(ttl time.Duration) *keyCache {
	if ttl <= 0 {
		return nil
	}
	return &keyCache{ttl: ttl, now: time.Now, m: map[[sha256.Size]byte]cachedKey{}}
}

// authenticate returns the key token is, from the cache or from lookup.
func (c *keyCache) authenticate(ctx context.Context, token string, lookup func(context.Context, string) (billing.APIKey, error)) (billing.APIKey, error) {
	if c == nil {
		return lookup(ctx, token)
	}
	hash := sha256.Sum256([]byte(token))
	now := c.now()
	c.mu.RLock()
	e, ok := c.m[hash]
	c.mu.RUnlock()
	if ok && now.Before(e.expires) {
		return e.key, nil
	}
	key, err := lookup(ctx, token)
	if err != nil {
		return key, err
	}
	c.mu.Lock()
	if len(c.m) >= maxCachedKeys {
		for h, e := range c.m {
			if !now.Before(e.expires) {
				delete(c.m, h)
			}
		}
		if len(c.m) >= maxCachedKeys {
			clear(c.m)
		}
	}
	c.m[hash] = cachedKey{key: key, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return key, nil
}

// forget drops a key (by id) at once: this replica revoked it.
func (c *keyCache) forget(keyID string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for h, e := range c.m {
		if e.key.ID == keyID {
			delete(c.m, h)
		}
	}
}

// secretOnly refuses publishable keys: they live in browsers and apps and
// may only call the client-side endpoints.
func secretOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if principalFrom(r.Context()).Kind != billing.KeySecret {
			renderError(w, r, &billing.Error{Code: billing.EForbidden, Reason: "secret_key_required",
				Message: "this endpoint needs a secret key (sk_…); publishable keys may only call client-side endpoints"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// adminOnly guards the operator API with BILLINGD_ADMIN_TOKEN. Tokens are
// compared as hashes in constant time, so neither content nor length leaks.
func (s *Server) adminOnly(next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(s.adminToken))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearer(r)
		got := sha256.Sum256([]byte(token))
		if s.adminToken == "" || !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			renderError(w, r, &billing.Error{Code: billing.EUnauthorized, Reason: "admin_token_invalid",
				Message: "send the admin token as Authorization: Bearer $BILLINGD_ADMIN_TOKEN"})
			return
		}
		next.ServeHTTP(w, r.WithContext(withActor(r, audit.ActorAdminToken, "admin")))
	})
}
