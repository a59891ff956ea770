package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/identity"
)

// Certifications (seed flow 2): the frontend gets a receipt_id from
// Bootpay's identity window; billingd fetches the certificate server-side,
// checks it is complete, unused and meets the caller's requirements, stores
// the identity sealed and links it to the customer. Those rules are
// internal/identity's; this file decodes, calls and renders.
//
// Who sees what: a secret key sees the identity; a publishable key (a
// browser or an app) sees only id, object, status, verified and receipt_id,
// and may not link a customer (anyone holding the page's key could
// otherwise mark any customer verified with their own identity).
//
// The route does not store Idempotency-Key replays: a stored response would
// keep the identity in clear in idempotency_keys. A receipt proves one
// certification once instead, so a retried POST is a 409 naming the
// certification, which GET returns.

// certificationPublicJSON is all a publishable key sees.
type certificationPublicJSON struct {
	ID        string `json:"id"`
	Object    string `json:"object"`
	Status    string `json:"status"`
	Verified  bool   `json:"verified"`
	ReceiptID string `json:"receipt_id"`
}

type certificationJSON struct {
	certificationPublicJSON
	Mode         string           `json:"mode"`
	Provider     string           `json:"provider"`
	CustomerID   *string          `json:"customer_id"`
	PersonID     string           `json:"person_id"`
	Identity     identityJSON     `json:"identity"`
	Requirements requirementsJSON `json:"requirements"`
	VerifiedAt   string           `json:"verified_at"`
	CreatedAt    string           `json:"created_at"`
}

type identityJSON struct {
	Name      string  `json:"name"`
	Phone     *string `json:"phone"`
	Birth     *string `json:"birth"`
	Gender    *string `json:"gender"`
	Carrier   *string `json:"carrier"`
	Foreigner bool    `json:"foreigner"`
}

type requirementsJSON struct {
	MinAge *int `json:"min_age"`
	Phone  bool `json:"phone"`
	Name   bool `json:"name"`
}

// certificationView renders c for the calling key's kind.
func certificationView(c billing.Certification, kind billing.KeyKind) any {
	pub := certificationPublicJSON{ID: c.ID, Object: "certification", Status: string(c.Status),
		Verified: c.Status == billing.CertificationVerified, ReceiptID: c.ReceiptID}
	if kind != billing.KeySecret {
		return pub
	}
	id := identityJSON{Name: c.Identity.Name, Phone: nonEmpty(c.Identity.Phone), Carrier: nonEmpty(c.Identity.Carrier),
		Foreigner: c.Identity.Foreigner}
	if c.Identity.Birth != nil {
		b := c.Identity.Birth.String()
		id.Birth = &b
	}
	if c.Identity.Gender != nil {
		g := string(*c.Identity.Gender)
		id.Gender = &g
	}
	return certificationJSON{certificationPublicJSON: pub, Mode: string(c.Mode), Provider: c.Provider,
		CustomerID: c.CustomerID, PersonID: c.PersonID, Identity: id,
		Requirements: requirementsJSON{MinAge: c.Requirements.MinAge, Phone: c.Requirements.Phone, Name: c.Requirements.Name},
		VerifiedAt:   timestamp(c.VerifiedAt), CreatedAt: timestamp(c.CreatedAt)}
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// identityCaller is the request's principal as internal/identity sees it.
func identityCaller(r *http.Request) identity.Caller {
	p := principalFrom(r.Context())
	return identity.Caller{MerchantID: p.MerchantID, Mode: p.Mode, Secret: p.Kind == billing.KeySecret}
}

func (s *Server) createCertification(w http.ResponseWriter, r *http.Request) {
	var in identity.CertifyInput
	if err := decodeJSON(r, &in); err != nil {
		renderError(w, r, err)
		return
	}
	c, err := s.identity.Certify(r.Context(), identityCaller(r), in)
	if err != nil {
		renderError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, certificationView(c, principalFrom(r.Context()).Kind))
}

func (s *Server) getCertification(w http.ResponseWriter, r *http.Request) {
	c, err := s.identity.GetCertification(r.Context(), identityCaller(r), chi.URLParam(r, "id"))
	if err != nil {
		renderError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, certificationView(c, principalFrom(r.Context()).Kind))
}
