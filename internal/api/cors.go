package api

import (
	"net/http"

	"github.com/go-chi/chi/v5/middleware"
)

// cors lets browsers call the client-side endpoints. Any origin may: these
// calls authenticate with a publishable key and a client secret in the
// request, never with cookies, so no credentials are shared.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") != "" {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", "*")
			h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key, X-Request-Id")
			h.Set("Access-Control-Expose-Headers", "X-Request-Id, Idempotent-Replayed")
			h.Set("Access-Control-Max-Age", "600")
		}
		next.ServeHTTP(w, r)
	})
}

// preflight answers a CORS preflight; cors has set the headers.
func preflight(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }

// clientIPMiddleware decides the client's address once per request: the
// connection's, or X-Forwarded-For's when the request came through one of
// the trusted proxies (a spoofed header from anyone else is ignored).
func clientIPMiddleware(trusted []string) func(http.Handler) http.Handler {
	if len(trusted) == 0 {
		return middleware.ClientIPFromRemoteAddr
	}
	return middleware.ClientIPFromXFF(trusted...)
}
