package demo

import (
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
)

//go:embed static/index.html static/app.js
var static embed.FS

var indexTmpl = template.Must(template.ParseFS(static, "static/index.html"))

// Options configures the demo.
type Options struct {
	// APIBase is where the demo backend reaches billingd's public API
	// (this process's own listener, e.g. http://127.0.0.1:8080).
	APIBase string
	// SecretKey and PublishableKey are the test keys of the merchant the
	// demo plays: the secret key stays in the demo backend, the
	// publishable key goes to the page.
	SecretKey, PublishableKey string
	// BootpayApplicationID is the merchant's Bootpay web application_id,
	// which a frontend carries for Bootpay.requestAuthentication.
	BootpayApplicationID string
	// BrowserAPIBase is where the page calls billingd's API from the
	// browser (an origin, e.g. https://api.example.com); empty: the page's
	// own origin. Another origin than the page's makes the browser apply
	// CORS, as it does for a merchant's frontend.
	BrowserAPIBase string
	// HTTPClient calls the API; nil means a client with a 30 s timeout.
	HTTPClient *http.Client
}

// Handler serves /sandbox/demo, its script and its backend endpoint.
type Handler struct {
	opts Options
	mux  *http.ServeMux
}

// New builds the demo. It refuses keys that are not test keys: the demo
// plays a merchant in test mode and must never hold a live key.
func New(o Options) (*Handler, error) {
	if !strings.HasPrefix(o.SecretKey, "sk_test_") || !strings.HasPrefix(o.PublishableKey, "pk_test_") {
		return nil, errors.New("demo: only test-mode keys (sk_test_…, pk_test_…) may run the demo checkout")
	}
	if o.APIBase == "" {
		return nil, errors.New("demo: APIBase is required")
	}
	if b := o.BrowserAPIBase; b != "" {
		if u, err := url.Parse(b); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || strings.ContainsAny(b, " ;'") {
			return nil, errors.New("demo: BrowserAPIBase must be an origin such as https://api.example.com")
		}
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	h := &Handler{opts: o, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /sandbox/demo", h.page)
	h.mux.HandleFunc("GET /sandbox/demo/{$}", h.page)
	h.mux.HandleFunc("GET /sandbox/demo/app.js", h.script)
	h.mux.HandleFunc("POST /sandbox/demo/backend/registrations", h.register)
	return h, nil
}

// ServeHTTP serves the demo's routes (full paths, /sandbox/demo…).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

func (h *Handler) page(w http.ResponseWriter, _ *http.Request) {
	cfg, _ := json.Marshal(map[string]string{"publishable_key": h.opts.PublishableKey, "api_base": h.opts.BrowserAPIBase,
		"bootpay_application_id": h.opts.BootpayApplicationID})
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'unsafe-inline'; frame-src 'self'; connect-src 'self' "+h.opts.BrowserAPIBase)
	_ = indexTmpl.Execute(w, map[string]any{"Config": template.JS(cfg)})
}

func (h *Handler) script(w http.ResponseWriter, _ *http.Request) {
	b, _ := static.ReadFile("static/app.js")
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}

// Mount adds the demo's routes to a chi router (billingd's, beside the
// sandbox PGs it needs).
func Mount(r chi.Router, h *Handler) {
	r.Handle("/sandbox/demo", h)
	r.Handle("/sandbox/demo/*", h)
}
