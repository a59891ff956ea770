package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/store"
)

type customerJSON struct {
	ID         string         `json:"id"`
	Object     string         `json:"object"`
	Mode       string         `json:"mode"`
	ExternalID *string        `json:"external_id"`
	Name       *string        `json:"name"`
	Email      *string        `json:"email"`
	Phone      *string        `json:"phone"`
	Birth      *string        `json:"birth"`
	Gender     *string        `json:"gender"`
	Metadata   map[string]any `json:"metadata"`
	VerifiedAt *string        `json:"verified_at"`
	CreatedAt  string         `json:"created_at"`
	UpdatedAt  string         `json:"updated_at"`
}

func toCustomerJSON(c billing.Customer) customerJSON {
	out := customerJSON{ID: c.ID, Object: "customer", Mode: string(c.Mode), ExternalID: c.ExternalID, Name: c.Name,
		Email: c.Email, Phone: c.Phone, Metadata: c.Metadata, VerifiedAt: optionalTimestamp(c.VerifiedAt),
		CreatedAt: timestamp(c.CreatedAt), UpdatedAt: timestamp(c.UpdatedAt)}
	if c.Birth != nil {
		b := c.Birth.String()
		out.Birth = &b
	}
	if c.Gender != nil {
		g := string(*c.Gender)
		out.Gender = &g
	}
	if out.Metadata == nil {
		out.Metadata = map[string]any{}
	}
	return out
}

func (s *Server) createCustomer(w http.ResponseWriter, r *http.Request) {
	var in billing.CustomerInput
	if err := decodeJSON(r, &in); err != nil {
		renderError(w, r, err)
		return
	}
	p := principalFrom(r.Context())
	c := billing.Customer{ID: billing.NewID(billing.PrefixCustomer), MerchantID: p.MerchantID, Mode: p.Mode}
	if err := in.Apply(&c); err != nil {
		renderError(w, r, err)
		return
	}
	c, err := s.store.CreateCustomer(r.Context(), c)
	if err != nil {
		renderError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toCustomerJSON(c))
}

func (s *Server) getCustomer(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if !billing.ValidID(billing.PrefixCustomer, id) {
		renderError(w, r, billing.NotFound("customer", id))
		return
	}
	p := principalFrom(r.Context())
	c, err := s.store.GetCustomer(r.Context(), p.MerchantID, p.Mode, id)
	if err != nil {
		renderError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toCustomerJSON(c))
}

func (s *Server) updateCustomer(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	var in billing.CustomerInput
	if err := decodeJSON(r, &in); err != nil {
		renderError(w, r, err)
		return
	}
	if !billing.ValidID(billing.PrefixCustomer, id) {
		renderError(w, r, billing.NotFound("customer", id))
		return
	}
	p := principalFrom(r.Context())
	c, err := s.store.UpdateCustomer(r.Context(), p.MerchantID, p.Mode, id, in)
	if err != nil {
		renderError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toCustomerJSON(c))
}

func (s *Server) deleteCustomer(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if !billing.ValidID(billing.PrefixCustomer, id) {
		renderError(w, r, billing.NotFound("customer", id))
		return
	}
	p := principalFrom(r.Context())
	if err := s.store.DeleteCustomer(r.Context(), p.MerchantID, p.Mode, id); err != nil {
		renderError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, deletedJSON{ID: id, Object: "customer", Deleted: true})
}

func (s *Server) listCustomers(w http.ResponseWriter, r *http.Request) {
	page, err := parsePage(r, billing.PrefixCustomer, "external_id", "email")
	if err != nil {
		renderError(w, r, err)
		return
	}
	q := r.URL.Query()
	p := principalFrom(r.Context())
	customers, hasMore, err := s.store.ListCustomers(r.Context(), p.MerchantID, p.Mode, store.CustomerFilter{
		Page: page, ExternalID: q.Get("external_id"), Email: q.Get("email"),
	})
	if err != nil {
		renderError(w, r, err)
		return
	}
	out := make([]customerJSON, len(customers))
	for i, c := range customers {
		out[i] = toCustomerJSON(c)
	}
	writeJSON(w, http.StatusOK, newList(out, hasMore))
}
