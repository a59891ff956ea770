package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/swaggest/swgui/v5emb"

	"github.com/billingd/billingd"
)

// serveOpenAPI serves the contract exactly as committed.
func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(billingd.OpenAPI)
}

// docsHandler renders the contract with Swagger UI, whose assets are
// embedded in the binary: no CDN, works offline.
func docsHandler() http.Handler {
	r := chi.NewRouter()
	ui := v5emb.New("billingd API", "/openapi.yaml", "/docs/")
	r.Get("/", func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/docs" {
			http.Redirect(w, req, "/docs/", http.StatusMovedPermanently)
			return
		}
		ui.ServeHTTP(w, req)
	})
	r.Get("/*", ui.ServeHTTP)
	return r
}
