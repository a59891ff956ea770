package api

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

// Every route refuses a body over the limit with 413 (documented for every
// operation: the contract checker fails an undocumented status), whether
// the body announces its length or arrives chunked.
func TestOversizedBodyIsRefusedOnEveryRoute(t *testing.T) {
	t.Parallel()
	const limit = 1024
	b := setupWith(t, bundleOpts{maxBodyBytes: limit})
	m := b.newMerchant(t)
	big := []byte(`{"name":"` + strings.Repeat("x", 2*limit) + `"}`)

	var routes [][2]string
	err := chi.Walk(New(Options{AdminToken: testAdminToken, MaxBodyBytes: limit}).handler.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		route = strings.TrimSuffix(route, "/")
		if outsideContract(route) || route == "" || method == http.MethodOptions {
			return nil
		}
		routes = append(routes, [2]string{method, route})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) < 40 {
		t.Fatalf("walked only %d routes", len(routes))
	}
	for _, rt := range routes {
		method, path := rt[0], strings.NewReplacer("{id}", "x_1", "{account_id}", "pa_1").Replace(rt[1])
		auth := m.secret
		if strings.HasPrefix(path, "/admin/") {
			auth = testAdminToken
		}
		for _, chunked := range []bool{false, true} {
			if chunked && method != http.MethodPost && method != http.MethodPatch {
				continue // only routes that take a body read one
			}
			var body io.Reader = bytes.NewReader(big)
			if chunked {
				body = io.MultiReader(bytes.NewReader(big)) // no length: sent chunked
			}
			req, err := http.NewRequestWithContext(context.Background(), method, b.url+path, body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+auth)
			req.Header.Set("Idempotency-Key", "big-"+method+path)
			resp, err := b.client.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge || !bytes.Contains(raw, []byte(`"request_too_large"`)) {
				t.Errorf("%s %s (chunked %v) with %d bytes: %d %s, want 413", method, path, chunked, len(big), resp.StatusCode, raw)
			}
		}
	}
}
