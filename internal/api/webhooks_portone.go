package api

import (
	"io"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/billingd/billingd/internal/payments"
	"github.com/billingd/billingd/internal/providers"
)

// portoneWebhook receives a PortOne V2 webhook. Its Standard Webhooks
// signature is checked first (401 when missing or wrong); a signed body
// is then stored as a hint like the other PGs' — the payment or billing
// key it names is looked up at PortOne before anything changes. Unknown
// types, and billing key events other than a deletion, are acknowledged
// and dropped. Both body versions (2024-04-25 and 2024-01-01) are read.
func (s *Server) portoneWebhook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		renderError(w, r, decodeError(err))
		return
	}
	release, err := s.webhookSlot(r)
	if err != nil {
		renderError(w, r, err)
		return
	}
	defer release()
	hook, err := s.payments.VerifyPortoneWebhook(r.Context(), chi.URLParam(r, "account_id"), r.Header, body)
	if err != nil {
		renderError(w, r, err)
		return
	}
	n, verify, err := payments.PortoneNotification(hook, r.Header.Get("webhook-id"))
	if err != nil {
		renderError(w, r, err)
		return
	}
	if verify {
		_, err = s.payments.ReceiveNotification(r.Context(), providers.Portone, chi.URLParam(r, "account_id"), clientIP(r), n)
		if err != nil {
			renderError(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "received"})
}
