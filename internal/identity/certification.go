package identity

import (
	"context"
	"errors"
	"regexp"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/providers"
	"github.com/billingd/billingd/internal/providers/bootpay"
)

// CertifyInput is a request to confirm an identity verification.
type CertifyInput struct {
	// ReceiptID is the receipt_id Bootpay's identity window handed the
	// frontend; required.
	ReceiptID *string `json:"receipt_id"`
	// CustomerID, when set, is the customer the verified person is linked
	// to (secret keys only).
	CustomerID *string              `json:"customer_id"`
	Require    billing.Requirements `json:"require"`
}

// receiptIDPattern bounds what is sent to the PG as a path segment
// (Bootpay's ids are 24 hex digits).
var receiptIDPattern = regexp.MustCompile(`^[0-9A-Za-z_-]{1,64}$`)

// Certify fetches the certificate of a receipt from the merchant's Bootpay
// account, checks that it is complete, that the receipt proved nothing
// before and that it meets in.Require on the service clock, then stores the
// identity (sealed by the store) and, with in.CustomerID, links the person
// to that customer. Nothing is stored when any step fails.
//
// A receipt proves one certification once: a used receipt is an EConflict
// naming the certification (billing.ReceiptUsed), before Bootpay is asked,
// so a replay gets the same answer after Bootpay's 30-minute lookup window.
// Only a secret key may link a customer: anyone holding a page's
// publishable key could otherwise mark any customer verified with their
// own identity. A caller without a secret key gets the publishable view
// (see GetCertification).
func (s *Service) Certify(ctx context.Context, c Caller, in CertifyInput) (billing.Certification, error) {
	if in.ReceiptID == nil || !receiptIDPattern.MatchString(*in.ReceiptID) {
		return billing.Certification{}, billing.Invalid("receipt_id", "receipt_id is required: the receipt_id Bootpay's identity window returned (1 to 64 letters, digits, - or _)")
	}
	receiptID := *in.ReceiptID
	if in.CustomerID != nil && !billing.ValidID(billing.PrefixCustomer, *in.CustomerID) {
		return billing.Certification{}, billing.UnknownCustomer("customer_id", *in.CustomerID)
	}
	if err := in.Require.Validate(); err != nil {
		return billing.Certification{}, err
	}
	if in.CustomerID != nil && !c.Secret {
		return billing.Certification{}, &billing.Error{Code: billing.EForbidden, Reason: "secret_key_required", Param: "customer_id",
			Message: "linking a certification to a customer needs a secret key; send the receipt_id to your backend and create the certification there"}
	}
	if existing, found, err := s.store.FindCertificationByReceipt(ctx, c.MerchantID, c.Mode, receiptID); err != nil {
		return billing.Certification{}, err
	} else if found {
		return billing.Certification{}, billing.ReceiptUsed(existing)
	}
	if in.CustomerID != nil {
		if _, err := s.store.GetCustomer(ctx, c.MerchantID, c.Mode, *in.CustomerID); billing.ErrorCode(err) == billing.ENotFound {
			return billing.Certification{}, billing.UnknownCustomer("customer_id", *in.CustomerID)
		} else if err != nil {
			return billing.Certification{}, err
		}
	}
	account, err := s.store.FindProviderAccount(ctx, c.MerchantID, c.Mode, providers.Bootpay)
	if err != nil {
		return billing.Certification{}, err
	}
	client, err := s.gateways.Bootpay(account)
	if err != nil {
		return billing.Certification{}, err
	}
	cert, err := client.Certificate(ctx, receiptID)
	if err != nil {
		return billing.Certification{}, certificateFailure(ctx, err)
	}
	if !cert.Verified() {
		return billing.Certification{}, &billing.Error{Code: billing.EInvalid, Reason: "certificate_not_verified", Param: "receipt_id",
			Message: "the identity verification of this receipt_id was not completed; have the customer finish Bootpay's window"}
	}
	if cert.UniqueID == "" {
		return billing.Certification{}, &billing.Error{Code: billing.EProvider, Reason: "certificate_incomplete",
			Message: "Bootpay reported the verification complete but sent no unique id (CI); it cannot be stored"}
	}
	id := identityOf(cert)
	now := s.now(c.Mode)
	checked, err := in.Require.Check(id, now)
	if err != nil {
		return billing.Certification{}, err
	}
	verifiedAt := cert.VerifiedAt
	if verifiedAt.IsZero() {
		verifiedAt = now
	}
	created, err := s.store.CreateCertification(ctx, billing.Certification{
		ID: billing.NewID(billing.PrefixCertification), MerchantID: c.MerchantID, Mode: c.Mode,
		ProviderAccountID: account.ID, Provider: providers.Bootpay, ReceiptID: receiptID, CustomerID: in.CustomerID,
		Status: billing.CertificationVerified, Identity: id, Requirements: checked, VerifiedAt: verifiedAt,
	})
	if err != nil {
		return billing.Certification{}, err
	}
	return viewFor(c, created), nil
}

// GetCertification reads one of the merchant's certifications in the
// caller's mode. A caller with a secret key gets the identity; any other
// caller gets the publishable view: Identity and PersonID zeroed.
func (s *Service) GetCertification(ctx context.Context, c Caller, id string) (billing.Certification, error) {
	if !billing.ValidID(billing.PrefixCertification, id) {
		return billing.Certification{}, billing.NotFound("certification", id)
	}
	cert, err := s.store.GetCertification(ctx, c.MerchantID, c.Mode, id)
	if err != nil {
		return billing.Certification{}, err
	}
	return viewFor(c, cert), nil
}

// viewFor is the one place identity is let out of the package: whole for a
// secret key, stripped for anything else (a browser or an app).
func viewFor(c Caller, cert billing.Certification) billing.Certification {
	if !c.Secret {
		cert.Identity = billing.Identity{}
		cert.PersonID = ""
	}
	return cert
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
func certificateFailure(ctx context.Context, err error) error {
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
	return pgFailure(ctx, "look up certificate", err)
}
