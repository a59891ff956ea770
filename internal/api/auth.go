package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

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
		key, err := s.store.Authenticate(r.Context(), token)
		if err != nil {
			renderError(w, r, err)
			return
		}
		p := principal{MerchantID: key.MerchantID, Mode: key.Mode, KeyID: key.ID, Kind: key.Kind}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
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
		next.ServeHTTP(w, r)
	})
}
