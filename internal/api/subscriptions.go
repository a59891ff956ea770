package api

import (
	"net/http"
	"slices"

	"github.com/go-chi/chi/v5"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/store"
	"github.com/billingd/billingd/internal/subscriptions"
)

type subscriptionJSON struct {
	Object string `json:"object"`
	billing.Subscription
	// LatestPayment is the first period's payment, in the creation response.
	LatestPayment *paymentJSON `json:"latest_payment,omitempty"`
}

func toSubscriptionJSON(s billing.Subscription) subscriptionJSON {
	if s.Metadata == nil {
		s.Metadata = map[string]any{}
	}
	return subscriptionJSON{Object: "subscription", Subscription: s}
}

func (s *Server) createSubscription(w http.ResponseWriter, r *http.Request) {
	var in billing.SubscriptionInput
	if err := decodeJSON(r, &in); err != nil {
		renderError(w, r, err)
		return
	}
	created, err := s.subscriptions.Create(r.Context(), caller(r), in, idempotencyOf(r))
	if err != nil {
		renderError(w, r, err)
		return
	}
	out := toSubscriptionJSON(created.Subscription)
	if created.Payment != nil {
		p := toPaymentJSON(*created.Payment)
		out.LatestPayment = &p
	}
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) getSubscription(w http.ResponseWriter, r *http.Request) {
	sub, err := s.subscriptions.Get(r.Context(), caller(r), chi.URLParam(r, "id"))
	if err != nil {
		renderError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toSubscriptionJSON(sub))
}

func (s *Server) listSubscriptions(w http.ResponseWriter, r *http.Request) {
	page, err := parsePage(r, billing.PrefixSubscription, "customer_id", "status")
	if err != nil {
		renderError(w, r, err)
		return
	}
	q := r.URL.Query()
	if st := billing.SubscriptionStatus(q.Get("status")); st != "" && !slices.Contains(billing.SubscriptionStatuses, st) {
		renderError(w, r, billing.Invalid("status", "status must be one of %v", billing.SubscriptionStatuses))
		return
	}
	p := principalFrom(r.Context())
	list, more, err := s.store.ListSubscriptions(r.Context(), p.MerchantID, p.Mode, store.SubscriptionFilter{
		Page: page, CustomerID: q.Get("customer_id"), Status: billing.SubscriptionStatus(q.Get("status"))})
	if err != nil {
		renderError(w, r, err)
		return
	}
	out := make([]subscriptionJSON, len(list))
	for i, sub := range list {
		out[i] = toSubscriptionJSON(sub)
	}
	writeJSON(w, http.StatusOK, newList(out, more))
}

func (s *Server) updateSubscription(w http.ResponseWriter, r *http.Request) {
	var in subscriptions.UpdateInput
	if err := decodeJSON(r, &in); err != nil {
		renderError(w, r, err)
		return
	}
	sub, err := s.subscriptions.Update(r.Context(), caller(r), chi.URLParam(r, "id"), in)
	s.renderSubscription(w, r, sub, err)
}

func (s *Server) cancelSubscription(w http.ResponseWriter, r *http.Request) {
	var in struct {
		AtPeriodEnd bool `json:"at_period_end"`
	}
	if err := decodeJSON(r, &in); err != nil {
		renderError(w, r, err)
		return
	}
	sub, err := s.subscriptions.Cancel(r.Context(), caller(r), chi.URLParam(r, "id"), in.AtPeriodEnd)
	s.renderSubscription(w, r, sub, err)
}

func (s *Server) pauseSubscription(w http.ResponseWriter, r *http.Request) {
	if err := decodeJSON(r, &struct{}{}); err != nil {
		renderError(w, r, err)
		return
	}
	sub, err := s.subscriptions.Pause(r.Context(), caller(r), chi.URLParam(r, "id"))
	s.renderSubscription(w, r, sub, err)
}

func (s *Server) resumeSubscription(w http.ResponseWriter, r *http.Request) {
	if err := decodeJSON(r, &struct{}{}); err != nil {
		renderError(w, r, err)
		return
	}
	sub, err := s.subscriptions.Resume(r.Context(), caller(r), chi.URLParam(r, "id"))
	s.renderSubscription(w, r, sub, err)
}

func (s *Server) renderSubscription(w http.ResponseWriter, r *http.Request, sub billing.Subscription, err error) {
	if err != nil {
		renderError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toSubscriptionJSON(sub))
}

// unschedulePayment revokes a scheduled payment at the PG: 200 canceled;
// 409 carrying the payment when the PG ran it first.
func (s *Server) unschedulePayment(w http.ResponseWriter, r *http.Request) {
	if err := decodeJSON(r, &struct{}{}); err != nil {
		renderError(w, r, err)
		return
	}
	p, err := s.payments.Unschedule(r.Context(), caller(r), chi.URLParam(r, "id"))
	if err != nil {
		renderError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toPaymentJSON(p))
}
