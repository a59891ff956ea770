package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/payments"
	"github.com/billingd/billingd/internal/store"
)

func caller(r *http.Request) payments.Caller {
	p := principalFrom(r.Context())
	return payments.Caller{MerchantID: p.MerchantID, Mode: p.Mode, Secret: p.Kind == billing.KeySecret}
}

func (s *Server) createBillingKey(w http.ResponseWriter, r *http.Request) {
	var in payments.CreateBillingKeyInput
	if err := decodeJSON(r, &in); err != nil {
		renderError(w, r, err)
		return
	}
	reg, err := s.payments.CreateBillingKey(r.Context(), caller(r), in)
	if err != nil {
		renderError(w, r, err)
		return
	}
	out := toBillingKeyJSON(reg.Key)
	out.ClientSecret, out.ClientParams, out.ClientInit = &reg.ClientSecret, reg.ClientParams, reg.ClientInit
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) confirmBillingKey(w http.ResponseWriter, r *http.Request) {
	var in payments.ConfirmInput
	if err := decodeJSON(r, &in); err != nil {
		renderError(w, r, err)
		return
	}
	k, err := s.payments.ConfirmBillingKey(r.Context(), caller(r), chi.URLParam(r, "id"), in)
	if err != nil {
		renderError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toBillingKeyJSON(k))
}

func (s *Server) getBillingKey(w http.ResponseWriter, r *http.Request) {
	k, err := s.payments.GetBillingKey(r.Context(), caller(r), chi.URLParam(r, "id"), r.URL.Query().Get("client_secret"))
	if err != nil {
		renderError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toBillingKeyJSON(k))
}

func (s *Server) listBillingKeys(w http.ResponseWriter, r *http.Request) {
	page, err := parsePage(r, billing.PrefixBillingKey, "customer_id", "status")
	if err != nil {
		renderError(w, r, err)
		return
	}
	q := r.URL.Query()
	status := billing.BillingKeyStatus(q.Get("status"))
	switch status {
	case "", billing.KeyPending, billing.KeyActive, billing.KeyFailed, billing.KeyDeleted:
	default:
		renderError(w, r, billing.Invalid("status", "status must be pending, active, failed or deleted"))
		return
	}
	p := principalFrom(r.Context())
	keys, more, err := s.store.ListBillingKeys(r.Context(), p.MerchantID, p.Mode, store.BillingKeyFilter{
		Page: page, CustomerID: q.Get("customer_id"), Status: status})
	if err != nil {
		renderError(w, r, err)
		return
	}
	out := make([]billingKeyJSON, len(keys))
	for i, k := range keys {
		out[i] = toBillingKeyJSON(k)
	}
	writeJSON(w, http.StatusOK, newList(out, more))
}

func (s *Server) deleteBillingKey(w http.ResponseWriter, r *http.Request) {
	k, err := s.payments.DeleteBillingKey(r.Context(), caller(r), chi.URLParam(r, "id"))
	if err != nil {
		renderError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toBillingKeyJSON(k))
}

func (s *Server) setDefaultBillingKey(w http.ResponseWriter, r *http.Request) {
	if err := decodeJSON(r, &struct{}{}); err != nil {
		renderError(w, r, err)
		return
	}
	k, err := s.payments.SetDefaultBillingKey(r.Context(), caller(r), chi.URLParam(r, "id"))
	if err != nil {
		renderError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toBillingKeyJSON(k))
}
