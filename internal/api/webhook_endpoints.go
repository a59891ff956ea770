package api

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/webhooks"
)

// Webhook endpoints: where a merchant's backend receives events. The
// signing secret is shown once, in the response that creates it (create
// and rotate_secret). Neither of those two POSTs stores an
// Idempotency-Key replay: the stored response would keep the secret in
// clear in idempotency_keys (the same rule as the Bootpay user token).

type webhookEndpointJSON struct {
	ID                      string   `json:"id"`
	Object                  string   `json:"object"`
	Mode                    string   `json:"mode"`
	URL                     string   `json:"url"`
	Description             *string  `json:"description"`
	EnabledEvents           []string `json:"enabled_events"`
	Status                  string   `json:"status"`
	DisabledReason          *string  `json:"disabled_reason"`
	PreviousSecretExpiresAt *string  `json:"previous_secret_expires_at"`
	CreatedAt               string   `json:"created_at"`
	UpdatedAt               string   `json:"updated_at"`
	// Only in the responses that create a secret.
	Secret *string `json:"secret,omitempty"`
}

func toWebhookEndpointJSON(e billing.WebhookEndpoint, withSecret bool) webhookEndpointJSON {
	out := webhookEndpointJSON{ID: e.ID, Object: "webhook_endpoint", Mode: string(e.Mode), URL: e.URL,
		Description: e.Description, EnabledEvents: e.EnabledEvents, Status: e.Status, DisabledReason: e.DisabledReason,
		PreviousSecretExpiresAt: optionalTimestamp(e.PreviousSecretsExpireAt(time.Now())),
		CreatedAt:               timestamp(e.CreatedAt), UpdatedAt: timestamp(e.UpdatedAt)}
	if withSecret {
		secret := e.Secret
		out.Secret = &secret
	}
	return out
}

func (s *Server) createWebhookEndpoint(w http.ResponseWriter, r *http.Request) {
	var in billing.WebhookEndpointInput
	if err := decodeJSON(r, &in); err != nil {
		renderError(w, r, err)
		return
	}
	p := principalFrom(r.Context())
	e := billing.WebhookEndpoint{ID: billing.NewID(billing.PrefixWebhookEndpoint), MerchantID: p.MerchantID, Mode: p.Mode}
	if err := in.Apply(&e, true); err != nil {
		renderError(w, r, err)
		return
	}
	if err := s.webhookGuard.CheckURL(p.Mode, e.URL); err != nil {
		renderError(w, r, err)
		return
	}
	e.Secret = webhooks.NewSecret()
	created, err := s.store.CreateWebhookEndpoint(r.Context(), e)
	if err != nil {
		renderError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, toWebhookEndpointJSON(created, true))
}

func (s *Server) listWebhookEndpoints(w http.ResponseWriter, r *http.Request) {
	page, err := parsePage(r, billing.PrefixWebhookEndpoint)
	if err != nil {
		renderError(w, r, err)
		return
	}
	p := principalFrom(r.Context())
	list, hasMore, err := s.store.ListWebhookEndpoints(r.Context(), p.MerchantID, p.Mode, page)
	if err != nil {
		renderError(w, r, err)
		return
	}
	out := make([]webhookEndpointJSON, len(list))
	for i, e := range list {
		out[i] = toWebhookEndpointJSON(e, false)
	}
	writeJSON(w, http.StatusOK, newList(out, hasMore))
}

// endpointID reads {id}, answering a malformed one with 404.
func endpointID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := chi.URLParam(r, "id")
	if !billing.ValidID(billing.PrefixWebhookEndpoint, id) {
		renderError(w, r, billing.NotFound("webhook_endpoint", id))
		return id, false
	}
	return id, true
}

func (s *Server) getWebhookEndpoint(w http.ResponseWriter, r *http.Request) {
	id, ok := endpointID(w, r)
	if !ok {
		return
	}
	p := principalFrom(r.Context())
	e, err := s.store.GetWebhookEndpoint(r.Context(), p.MerchantID, p.Mode, id)
	if err != nil {
		renderError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toWebhookEndpointJSON(e, false))
}

func (s *Server) updateWebhookEndpoint(w http.ResponseWriter, r *http.Request) {
	var in billing.WebhookEndpointInput
	if err := decodeJSON(r, &in); err != nil {
		renderError(w, r, err)
		return
	}
	id, ok := endpointID(w, r)
	if !ok {
		return
	}
	p := principalFrom(r.Context())
	e, err := s.store.UpdateWebhookEndpoint(r.Context(), p.MerchantID, p.Mode, id, func(e *billing.WebhookEndpoint) error {
		if err := in.Apply(e, false); err != nil {
			return err
		}
		if in.URL.Present {
			return s.webhookGuard.CheckURL(p.Mode, e.URL)
		}
		return nil
	})
	if err != nil {
		renderError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toWebhookEndpointJSON(e, false))
}

func (s *Server) deleteWebhookEndpoint(w http.ResponseWriter, r *http.Request) {
	id, ok := endpointID(w, r)
	if !ok {
		return
	}
	p := principalFrom(r.Context())
	if err := s.store.DeleteWebhookEndpoint(r.Context(), p.MerchantID, p.Mode, id); err != nil {
		renderError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, deletedJSON{ID: id, Object: "webhook_endpoint", Deleted: true})
}

type rotateRequest struct {
	ExpireOldAfterSeconds *int64 `json:"expire_old_after_seconds"`
}

// rotateWebhookSecret issues a new secret. The old one (and any earlier
// one still in its overlap) keeps signing until expire_old_after_seconds
// have passed (default a day; 0 ends it now, for a leaked secret), so the
// receiver can switch without dropping a delivery.
func (s *Server) rotateWebhookSecret(w http.ResponseWriter, r *http.Request) {
	var in rotateRequest
	if err := decodeJSON(r, &in); err != nil {
		renderError(w, r, err)
		return
	}
	overlap := billing.DefaultSecretOverlap
	if in.ExpireOldAfterSeconds != nil {
		secs := *in.ExpireOldAfterSeconds
		if secs < 0 || secs > int64(billing.MaxSecretOverlap/time.Second) {
			renderError(w, r, billing.Invalid("expire_old_after_seconds", "expire_old_after_seconds must be 0 to %d (7 days)",
				int64(billing.MaxSecretOverlap/time.Second)))
			return
		}
		overlap = time.Duration(secs) * time.Second
	}
	id, ok := endpointID(w, r)
	if !ok {
		return
	}
	p := principalFrom(r.Context())
	e, err := s.store.UpdateWebhookEndpoint(r.Context(), p.MerchantID, p.Mode, id, func(e *billing.WebhookEndpoint) error {
		e.Rotate(webhooks.NewSecret(), time.Now(), overlap)
		return nil
	})
	if err != nil {
		renderError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, toWebhookEndpointJSON(e, true))
}
