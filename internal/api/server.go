package api

import (
	"cmp"
	"context"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/httprate"
	"github.com/rs/zerolog"

	"github.com/billingd/billingd/internal/admin"
	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/gateways"
	"github.com/billingd/billingd/internal/identity"
	"github.com/billingd/billingd/internal/metrics"
	"github.com/billingd/billingd/internal/payments"
	"github.com/billingd/billingd/internal/providers/sandbox"
	"github.com/billingd/billingd/internal/store"
	"github.com/billingd/billingd/internal/subscriptions"
	"github.com/billingd/billingd/internal/testclock"
	"github.com/billingd/billingd/internal/webhooks"
)

// Options configures the HTTP surface.
type Options struct {
	Store    *store.Store
	Admin    *admin.Service
	Gateways *gateways.Gateways // PG clients per provider account
	Payments *payments.Service
	// Subscriptions runs recurring billing; TestClock (nil: disabled)
	// advances test mode's time.
	Subscriptions *subscriptions.Service
	TestClock     *testclock.Advancer
	Identity      *identity.Service
	Sandbox       *sandbox.Set // served under /sandbox when set (dev and test mode)
	Logger        zerolog.Logger
	AdminToken    string // empty: the admin API refuses every request
	MaxBodyBytes  int64
	RateLimit     int // requests per second per API key; 0: unlimited
	// WebhookRateLimit is PG notifications per minute per provider account
	// and source address (0: unlimited); WebhookConcurrency, how many are
	// stored at once (0: DefaultWebhookConcurrency). Both per replica.
	// WebhookSlotWait is how long one waits for a free slot before it is
	// refused with 429 (0: DefaultWebhookSlotWait).
	WebhookRateLimit   int
	WebhookConcurrency int
	WebhookSlotWait    time.Duration
	// TrustedProxies lists the proxies (CIDR ranges) whose X-Forwarded-For
	// is believed; empty: the connection's address is the client's.
	TrustedProxies []string
	// Mount adds routes outside the API (the sandbox PGs in dev and test).
	Mount func(chi.Router)
	// Console, when set, is the operator console served at /console.
	Console http.Handler
	// Metrics records request latencies and serves /metrics; may be nil.
	Metrics *metrics.Metrics
	// WebhookGuard checks merchants' webhook endpoint URLs.
	WebhookGuard webhooks.Guard
	// APIKeyCacheTTL is how long an authenticated API key is remembered
	// (auth.go); 0 looks every request's key up.
	APIKeyCacheTTL time.Duration
}

// Server is billingd's HTTP handler.
type Server struct {
	store         *store.Store
	admin         *admin.Service
	gateways      *gateways.Gateways
	payments      *payments.Service
	subscriptions *subscriptions.Service
	testClock     *testclock.Advancer
	identity      *identity.Service
	adminToken    string
	handler       http.Handler

	webhookGuard    webhooks.Guard
	metricsHandler  http.Handler
	apiKeys         *keyCache
	webhookSlots    chan struct{} // one per PG notification being stored
	webhookSlotWait time.Duration
}

// New builds the router.
func New(o Options) *Server {
	s := &Server{store: o.Store, admin: o.Admin, gateways: o.Gateways, payments: o.Payments, subscriptions: o.Subscriptions, testClock: o.TestClock, identity: o.Identity, adminToken: o.AdminToken}
	s.webhookGuard, s.metricsHandler = o.WebhookGuard, o.Metrics.Handler()
	s.apiKeys = newKeyCache(o.APIKeyCacheTTL)
	if o.WebhookConcurrency <= 0 {
		o.WebhookConcurrency = DefaultWebhookConcurrency
	}
	s.webhookSlots = make(chan struct{}, o.WebhookConcurrency)
	s.webhookSlotWait = cmp.Or(o.WebhookSlotWait, DefaultWebhookSlotWait)
	r := chi.NewRouter()
	// Outermost: Server-Timing must wrap every writer below it (the
	// idempotency recorder's included), and the route pattern is read
	// after routing.
	r.Use(metrics.ServerTiming, o.Metrics.Middleware)
	r.Use(withRequestID(o.Logger), accessLog, recoverPanics, limitBody(o.MaxBodyBytes), clientIPMiddleware(o.TrustedProxies))
	r.NotFound(notFound)
	r.MethodNotAllowed(methodNotAllowed)

	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	r.Get("/openapi.yaml", serveOpenAPI)
	r.Get("/metrics", s.serveMetrics)
	r.Mount("/docs", docsHandler())

	r.Route("/v1", func(r chi.Router) {
		r.Use(s.authenticate, rateLimit(o.RateLimit))
		r.Group(func(r chi.Router) {
			r.Use(secretOnly, s.idempotent(false))
			r.Post("/customers", s.createCustomer)
			r.Get("/customers", s.listCustomers)
			r.Get("/customers/{id}", s.getCustomer)
			r.Patch("/customers/{id}", s.updateCustomer)
			r.Delete("/customers/{id}", s.deleteCustomer)
			r.Post("/billing_keys", s.createBillingKey)
			r.Get("/billing_keys", s.listBillingKeys)
			r.Delete("/billing_keys/{id}", s.deleteBillingKey)
			r.Post("/billing_keys/{id}/default", s.setDefaultBillingKey)
			r.Get("/payments", s.listPayments)
			r.Get("/payments/{id}", s.getPayment)
			r.Get("/events", s.listEvents)
			r.Get("/events/{id}", s.getEvent)
			r.Get("/events/{id}/deliveries", s.listEventDeliveries)
			r.Post("/events/{id}/resend", s.resendEvent)
			r.Get("/webhook_endpoints", s.listWebhookEndpoints)
			r.Get("/webhook_endpoints/{id}", s.getWebhookEndpoint)
			r.Patch("/webhook_endpoints/{id}", s.updateWebhookEndpoint)
			r.Delete("/webhook_endpoints/{id}", s.deleteWebhookEndpoint)
			r.Post("/payments/{id}/unschedule", s.unschedulePayment)
			r.Get("/subscriptions", s.listSubscriptions)
			r.Get("/subscriptions/{id}", s.getSubscription)
			r.Patch("/subscriptions/{id}", s.updateSubscription)
			r.Post("/subscriptions/{id}/cancel", s.cancelSubscription)
			r.Post("/subscriptions/{id}/pause", s.pauseSubscription)
			r.Post("/subscriptions/{id}/resume", s.resumeSubscription)
			r.Get("/test_clock", s.getTestClock)
			r.Post("/test_clock/advance", s.advanceTestClock)
		})
		// Money moves: an Idempotency-Key is required.
		r.Group(func(r chi.Router) {
			r.Use(secretOnly)
			// A charge claims its key with its payment row (idempotency.go).
			r.With(s.idempotentCharge).Post("/payments", s.createPayment)
			r.With(s.idempotent(true)).Post("/payments/{id}/cancel", s.refundPayment)
			r.With(s.idempotent(true)).Post("/subscriptions", s.createSubscription)
		})
		// Client-side: publishable keys too (with the registration's
		// client_secret), and browsers may call them (CORS).
		r.Group(func(r chi.Router) {
			r.Use(cors, s.idempotent(false))
			r.Post("/billing_keys/{id}/confirm", s.confirmBillingKey)
			r.Options("/billing_keys/{id}/confirm", preflight)
			r.Get("/billing_keys/{id}", s.getBillingKey)
			r.Options("/billing_keys/{id}", preflight)
		})
		// Neither of the next two stores Idempotency-Key replays: the
		// responses carry a bearer token or identity, which must not sit in
		// clear in idempotency_keys. Both are idempotent by themselves.
		r.With(secretOnly).Post("/customers/{id}/bootpay_user_token", s.createBootpayUserToken)
		// Nor do these two: their responses carry a webhook signing secret.
		r.With(secretOnly).Post("/webhook_endpoints", s.createWebhookEndpoint)
		r.With(secretOnly).Post("/webhook_endpoints/{id}/rotate_secret", s.rotateWebhookSecret)
		// Certifications: publishable keys too (they see the status only),
		// and browsers may call them (CORS).
		r.Group(func(r chi.Router) {
			r.Use(cors)
			r.Post("/certifications", s.createCertification)
			r.Options("/certifications", preflight)
			r.Get("/certifications/{id}", s.getCertification)
			r.Options("/certifications/{id}", preflight)
		})
	})

	// PG webhooks: unauthenticated hints, verified against the PG's API
	// within limits (webhook_limits.go).
	r.With(webhookRateLimit(o.WebhookRateLimit)).Post("/webhooks/iamport/{account_id}", s.iamportWebhook)
	r.With(webhookRateLimit(o.WebhookRateLimit)).Post("/webhooks/bootpay/{account_id}", s.bootpayWebhook)
	r.With(webhookRateLimit(o.WebhookRateLimit)).Post("/webhooks/portone/{account_id}", s.portoneWebhook)

	r.Route("/admin/v1", func(r chi.Router) {
		r.Use(s.adminOnly)
		r.Post("/merchants", s.createMerchant)
		r.Get("/merchants/{id}", s.getMerchant)
		r.Patch("/merchants/{id}", s.updateMerchant)
		r.Post("/merchants/{id}/keys", s.createAPIKey)
		r.Get("/merchants/{id}/keys", s.listAPIKeys)
		r.Delete("/keys/{id}", s.revokeAPIKey)
		r.Post("/merchants/{id}/provider_accounts", s.createProviderAccount)
		r.Get("/merchants/{id}/provider_accounts", s.listProviderAccounts)
		r.Get("/provider_accounts/{id}", s.getProviderAccount)
		r.Patch("/provider_accounts/{id}", s.updateProviderAccount)
		r.Delete("/provider_accounts/{id}", s.deleteProviderAccount)
		r.Get("/audit_events", s.listAuditEvents)
	})

	if o.Sandbox != nil {
		// chi's Mount keeps the full path and hands its routing state down,
		// but the fakes route by themselves (/iamport/…, /bootpay/…, with
		// chi routers inside): give them the stripped path and fresh state.
		sb := http.StripPrefix("/sandbox", o.Sandbox)
		r.Mount("/sandbox", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			sb.ServeHTTP(w, req.WithContext(context.WithValue(req.Context(), chi.RouteCtxKey, nil)))
		}))
	}
	if o.Console != nil {
		r.Mount("/console", o.Console)
	}
	if o.Mount != nil {
		o.Mount(r)
	}
	s.handler = r
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// limitBody caps request bodies; reading past the cap fails with
// *http.MaxBytesError, which decoding turns into 413.
func limitBody(n int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > n {
				renderError(w, r, &billing.Error{Code: eTooLarge, Reason: "body_too_large", Message: "request body is too large"})
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, n)
			next.ServeHTTP(w, r)
		})
	}
}

// rateLimit allows perSecond requests per API key (per replica).
func rateLimit(perSecond int) func(http.Handler) http.Handler {
	if perSecond <= 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	return httprate.Limit(perSecond, time.Second,
		httprate.WithKeyFuncs(func(r *http.Request) (string, error) { return principalFrom(r.Context()).KeyID, nil }),
		httprate.WithLimitHandler(func(w http.ResponseWriter, r *http.Request) {
			renderError(w, r, &billing.Error{Code: billing.ERateLimited, Reason: "rate_limited",
				Message: "too many requests for this API key; slow down and retry"})
		}))
}
