package api

import (
	"errors"
	"net/http"
	"regexp"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/providers"
	"github.com/billingd/billingd/internal/providers/bootpay"
)

// Certifications (seed flow 2): the frontend gets a receipt_id from
// Bootpay's identity window; billingd fetches the certificate server-side,
// checks it is complete, unused and meets the caller's requirements, stores
// the identity sealed and links it to the customer.
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

type certificationRequest struct {
	ReceiptID  *string              `json:"receipt_id"`
	CustomerID *string              `json:"customer_id"`
	Require    billing.Requirements `json:"require"`
}

// receiptIDPattern bounds what is sent to the PG as a path segment
// (Bootpay's ids are 24 hex digits).
var receiptIDPattern = regexp.MustCompile(`^[0-9A-Za-z_-]{1,64}$`)

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

func (s *Server) createCertification(w http.ResponseWriter, r *http.Request) {
	var in certificationRequest
	if err := decodeJSON(r, &in); err != nil {
		renderError(w, r, err)
		return
	}
	if in.ReceiptID == nil || !receiptIDPattern.MatchString(*in.ReceiptID) {
		renderError(w, r, billing.Invalid("receipt_id", "receipt_id is required: the receipt_id Bootpay's identity window returned (1 to 64 letters, digits, - or _)"))
		return
	}
	receiptID := *in.ReceiptID
	if in.CustomerID != nil && !billing.ValidID(billing.PrefixCustomer, *in.CustomerID) {
		renderError(w, r, billing.UnknownCustomer("customer_id", *in.CustomerID))
		return
	}
	if err := in.Require.Validate(); err != nil {
		renderError(w, r, err)
		return
	}
	ctx := r.Context()
	p := principalFrom(ctx)
	if in.CustomerID != nil && p.Kind != billing.KeySecret {
		renderError(w, r, &billing.Error{Code: billing.EForbidden, Reason: "secret_key_required", Param: "customer_id",
			Message: "linking a certification to a customer needs a secret key; send the receipt_id to your backend and create the certification there"})
		return
	}
	// A used receipt is refused before the PG is asked, so a replay is
	// answered the same way after Bootpay's 30-minute lookup window too.
	if existing, found, err := s.store.FindCertificationByReceipt(ctx, p.MerchantID, p.Mode, receiptID); err != nil {
		renderError(w, r, err)
		return
	} else if found {
		renderError(w, r, billing.ReceiptUsed(existing))
		return
	}
	if in.CustomerID != nil {
		if _, err := s.store.GetCustomer(ctx, p.MerchantID, p.Mode, *in.CustomerID); billing.ErrorCode(err) == billing.ENotFound {
			renderError(w, r, billing.UnknownCustomer("customer_id", *in.CustomerID))
			return
		} else if err != nil {
			renderError(w, r, err)
			return
		}
	}
	account, err := s.store.FindProviderAccount(ctx, p.MerchantID, p.Mode, providers.Bootpay)
	if err != nil {
		renderError(w, r, err)
		return
	}
	client, err := s.gateways.Bootpay(account)
	if err != nil {
		renderError(w, r, err)
		return
	}
	cert, err := client.Certificate(ctx, receiptID)
	if err != nil {
		renderError(w, r, certificateFailure(r, err))
		return
	}
	if !cert.Verified() {
		renderError(w, r, &billing.Error{Code: billing.EInvalid, Reason: "certificate_not_verified", Param: "receipt_id",
			Message: "the identity verification of this receipt_id was not completed; have the customer finish Bootpay's window"})
		return
	}
	if cert.UniqueID == "" {
		renderError(w, r, &billing.Error{Code: billing.EProvider, Reason: "certificate_incomplete",
			Message: "Bootpay reported the verification complete but sent no unique id (CI); it cannot be stored"})
		return
	}
	id := identityOf(cert)
	now := time.Now()
	checked, err := in.Require.Check(id, now)
	if err != nil {
		renderError(w, r, err)
		return
	}
	verifiedAt := cert.VerifiedAt
	if verifiedAt.IsZero() {
		verifiedAt = now
	}
	created, err := s.store.CreateCertification(ctx, billing.Certification{
		ID: billing.NewID(billing.PrefixCertification), MerchantID: p.MerchantID, Mode: p.Mode,
		ProviderAccountID: account.ID, Provider: providers.Bootpay, ReceiptID: receiptID, CustomerID: in.CustomerID,
		Status: billing.CertificationVerified, Identity: id, Requirements: checked, VerifiedAt: verifiedAt,
	})
	if err != nil {
		renderError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, certificationView(created, p.Kind))
}

func (s *Server) getCertification(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if !billing.ValidID(billing.PrefixCertification, id) {
		renderError(w, r, billing.NotFound("certification", id))
		return
	}
	p := principalFrom(r.Context())
	c, err := s.store.GetCertification(r.Context(), p.MerchantID, p.Mode, id)
	if err != nil {
		renderError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, certificationView(c, p.Kind))
}

// identityOf converts the adapter's certificate. A birth date the PG wrote
// in another form is dropped (and fails require.min_age), not guessed.
func identityOf(c bootpay.Certificate) billing.Identity {
	id := billing.Identity{Name: c.Name, Phone: c.Phone, Carrier: c.Carrier, Foreigner: c.Foreigner, CI: c.UniqueID, DI: c.DI}
	if b, ok := billing.ParseCompactBirth(c.Birth); ok {
		id.Birth = b
	}
	switch c.Gender {
	case "male":
		g := billing.GenderMale
		id.Gender = &g
	case "female":
		g := billing.GenderFemale
		id.Gender = &g
	}
	return id
}

// certificateFailure maps a failed certificate lookup. What concerns the
// receipt itself (unknown, expired, never completed, otherwise refused) is
// the caller's 400 on receipt_id; credentials and outages are the PG's 502.
func certificateFailure(r *http.Request, err error) error {
	pe, ok := providers.AsError(err)
	if !ok {
		return err
	}
	invalid := func(reason, msg string) error {
		return &billing.Error{Code: billing.EInvalid, Reason: reason, Param: "receipt_id", Message: msg, ProviderCode: pe.PGCode, Err: err}
	}
	switch {
	case errors.Is(err, providers.ErrNotFound):
		return invalid("certificate_not_found", "Bootpay has no identity verification with this receipt_id for the merchant's Bootpay account")
	case errors.Is(err, bootpay.ErrCertificateExpired):
		return invalid("certificate_expired", "Bootpay shows a certificate only within 30 minutes of the verification; have the customer verify again")
	case errors.Is(err, bootpay.ErrCertificateNotConfirmed):
		return invalid("certificate_not_verified", "the identity verification of this receipt_id was not completed; have the customer finish Bootpay's window")
	case errors.Is(err, providers.ErrRejected):
		return invalid("certificate_rejected", "Bootpay refused to show the certificate of this receipt_id (see provider_code); it may have expired")
	}
	return providerFailure(r, "certificate", err)
}
