// Package console is billingd's operator console at /console: server-
// rendered pages (html/template, plain forms, no script) for support,
// finance and on-call. It reads through the store's read queries and makes
// every change through the same services as the APIs (payments,
// subscriptions, admin), so it cannot do what the API forbids; every page
// and action is written to the audit log.
package console

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"

	"github.com/billingd/billingd/internal/admin"
	"github.com/billingd/billingd/internal/payments"
	"github.com/billingd/billingd/internal/store"
	"github.com/billingd/billingd/internal/subscriptions"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options wires the console.
type Options struct {
	Store         *store.Store
	Admin         *admin.Service
	Payments      *payments.Service
	Subscriptions *subscriptions.Service
	// AdminToken signs operators in; empty: nobody can.
	AdminToken string
	Logger     zerolog.Logger
	// IdleTimeout and MaxAge end a session (defaults 30 m and 12 h).
	IdleTimeout time.Duration
	MaxAge      time.Duration
	// LoginsPerMinute bounds sign-in attempts per client address
	// (default 5).
	LoginsPerMinute int
	// KeyRevoked, when set, is told of each key the console revoked (the
	// API's key cache forgets it at once).
	KeyRevoked func(keyID string)
	// UnknownAfter is how long an unknown outcome waits before the home
	// page lists it (default 5 m: reconciliation's first tries).
	UnknownAfter time.Duration
}

// Console serves /console.
type Console struct {
	o     Options
	pages map[string]*template.Template
	mux   http.Handler
}

// New builds the console; mount it at /console.
func New(o Options) (*Console, error) {
	if o.IdleTimeout == 0 {
		o.IdleTimeout = 30 * time.Minute
	}
	if o.MaxAge == 0 {
		o.MaxAge = 12 * time.Hour
	}
	if o.LoginsPerMinute == 0 {
		o.LoginsPerMinute = 5
	}
	if o.UnknownAfter == 0 {
		o.UnknownAfter = 5 * time.Minute
	}
	c := &Console{o: o, pages: map[string]*template.Template{}}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		if name == "templates/layout.html" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", name)
		if err != nil {
			return nil, fmt.Errorf("console: parse %s: %w", name, err)
		}
		c.pages[name[len("templates/"):len(name)-len(".html")]] = t
	}
	c.mux = c.routes()
	return c, nil
}

func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.mux.ServeHTTP(w, r) }

func (c *Console) routes() http.Handler {
	r := chi.NewRouter()
	static, _ := fs.Sub(staticFS, "static")
	r.Handle("/static/*", http.StripPrefix("/console/static/", http.FileServer(http.FS(static))))
	r.Get("/login", c.loginPage)
	r.With(c.loginLimit()).Post("/login", c.login)
	r.Group(func(r chi.Router) {
		r.Use(c.session)
		r.Post("/logout", c.logout)
		r.Get("/", c.home)
		r.Get("/payments", c.paymentsPage)
		r.Get("/payments/{id}", c.paymentPage)
		r.Get("/customers", c.customersPage)
		r.Get("/customers/{id}", c.customerPage)
		r.Post("/certifications/{id}/identity", c.identityPage)
		r.Get("/subscriptions", c.subscriptionsPage)
		r.Get("/webhooks", c.webhooksPage)
		r.Get("/merchants", c.merchantsPage)
		r.Get("/audit", c.auditPage)
		r.Get("/actions/{action}", c.confirmAction)
		r.Post("/actions/{action}", c.performAction)
	})
	return r
}
