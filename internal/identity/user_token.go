package identity

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/providers"
	"github.com/billingd/billingd/internal/providers/bootpay"
)

// UserTokenResult is a Bootpay user token for one customer and what the
// frontend passes to the easy/password window with it.
type UserTokenResult struct {
	// Token is the user token, a bearer credential: it prints redacted.
	Token billing.BootpayUserToken
	// PG is the window's PG: the one asked for, else the account's
	// settings.default_pg.
	PG string
	// ApplicationID is the account's settings.client_application_id (the
	// JS SDK's application id); empty when the account has none.
	ApplicationID string
}

// IssueUserToken returns a user token for the customer at the merchant's
// Bootpay account, for the easy-window PG pg (nil: the account's
// default_pg).
//
// The call is idempotent by itself: a cached token issued for exactly the
// same customer data and account version is handed out again while it has
// more than billing.BootpayUserTokenMinRemaining left on the service clock;
// otherwise Bootpay issues a new one, which replaces the cached one.
func (s *Service) IssueUserToken(ctx context.Context, c Caller, customerID string, pg *string) (UserTokenResult, error) {
	var res UserTokenResult
	if !c.Secret {
		// The token opens the customer's password window: never hand it
		// to a browser key.
		return res, &billing.Error{Code: billing.EForbidden, Reason: "secret_key_required",
			Message: "a Bootpay user token needs a secret key (sk_…); ask for it from your backend"}
	}
	if !billing.ValidID(billing.PrefixCustomer, customerID) {
		return res, billing.NotFound("customer", customerID)
	}
	if pg != nil {
		var err error
		if res.PG, err = billing.BootpayEasyPG("pg", *pg); err != nil {
			return res, err
		}
	}
	cus, err := s.store.GetCustomer(ctx, c.MerchantID, c.Mode, customerID)
	if err != nil {
		return res, err
	}
	if cus.ExternalID == nil {
		return res, &billing.Error{Code: billing.EInvalid, Reason: "external_id_required",
			Message: fmt.Sprintf("customer %s has no external_id; Bootpay's user_id is the customer's external_id: set it with PATCH /v1/customers/%s", cus.ID, cus.ID)}
	}
	account, err := s.store.FindProviderAccount(ctx, c.MerchantID, c.Mode, providers.Bootpay)
	if err != nil {
		return res, err
	}
	if res.PG == "" {
		if res.PG, err = defaultEasyPG(account); err != nil {
			return res, err
		}
	}
	if res.PG == "payapp" && cus.Phone == nil {
		// Bootpay: the phone is required for payapp, optional elsewhere.
		return res, &billing.Error{Code: billing.EInvalid, Reason: "customer_phone_required", Param: "pg",
			Message: fmt.Sprintf("payapp's easy window needs the customer's phone; set it with PATCH /v1/customers/%s", cus.ID)}
	}
	res.ApplicationID, _ = account.Settings["client_application_id"].(string)

	req := userTokenRequestOf(cus)
	// A cached token is reused only for an identical request to the same
	// account version: changed customer data or credentials mean a new one.
	issuedFor, err := json.Marshal(struct {
		Request bootpay.UserTokenRequest
		Account string
		Version time.Time
	}{req, account.ID, account.UpdatedAt})
	if err != nil {
		return res, fmt.Errorf("user token of %s: %w", cus.ID, err)
	}
	tok, found, err := s.store.CachedBootpayUserToken(ctx, c.MerchantID, c.Mode, cus.ID, account.ID, issuedFor)
	if err != nil {
		return res, err
	}
	if found && tok.Reusable(s.now(c.Mode)) {
		res.Token = tok
		return res, nil
	}
	client, err := s.gateways.Bootpay(account)
	if err != nil {
		return res, err
	}
	issued, err := client.UserToken(ctx, req)
	if err != nil {
		return res, pgFailure(ctx, "issue user token", err)
	}
	tok = billing.BootpayUserToken{MerchantID: c.MerchantID, Mode: c.Mode, CustomerID: cus.ID, ProviderAccountID: account.ID,
		Token: issued.Token, ExpiresAt: issued.ExpiresAt}
	if err := s.store.SaveBootpayUserToken(ctx, tok, issuedFor); err != nil {
		return res, err
	}
	res.Token = tok
	return res, nil
}

// defaultEasyPG is the account's settings.default_pg, when it is a PG of
// the easy window.
func defaultEasyPG(a billing.ProviderAccount) (string, error) {
	def, _ := a.Settings["default_pg"].(string)
	if def == "" {
		return "", billing.Invalid("pg", "pg is required: the bootpay account has no settings.default_pg (easy window PGs: payapp, nicepay, welcome)")
	}
	pg, err := billing.BootpayEasyPG("pg", def)
	if err != nil {
		return "", billing.Invalid("pg", "the bootpay account's default_pg %q has no easy/password window; pass pg: payapp, nicepay or welcome", def)
	}
	return pg, nil
}

// userTokenRequestOf is what Bootpay gets to know of a customer: the
// external_id as user_id, gender as 1 (male) / 0 (female), birth as YYMMDD
// (Bootpay's SDK samples ask for six digits). c must have an external_id.
func userTokenRequestOf(c billing.Customer) bootpay.UserTokenRequest {
	req := bootpay.UserTokenRequest{UserID: *c.ExternalID}
	if c.Email != nil {
		req.Email = *c.Email
	}
	if c.Name != nil {
		req.Name = *c.Name
	}
	if c.Phone != nil {
		req.Phone = *c.Phone
	}
	if c.Birth != nil {
		req.Birth = c.Birth.Format("060102")
	}
	if c.Gender != nil {
		g := 0
		if *c.Gender == billing.GenderMale {
			g = 1
		}
		req.Gender = &g
	}
	return req
}
