package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/providers"
	"github.com/billingd/billingd/internal/providers/bootpay"
)

// Bootpay user tokens (seed flow 1): the merchant backend asks for a token
// for one customer, billingd asks Bootpay with the customer's data and
// hands back the token and the parameters of the easy/password window.
//
// The route does not store Idempotency-Key replays: a stored response
// would keep the token, a bearer credential, in clear in idempotency_keys
// for a day. The call is idempotent by itself instead: while the cached
// token has more than five minutes left, every call returns it.

type bootpayUserTokenRequest struct {
	PG *string `json:"pg"`
}

type bootpayUserTokenJSON struct {
	Object       string                  `json:"object"`
	CustomerID   string                  `json:"customer_id"`
	Mode         string                  `json:"mode"`
	UserToken    string                  `json:"user_token"`
	ExpiresAt    string                  `json:"expires_at"`
	ClientParams bootpayClientParamsJSON `json:"client_params"`
}

// bootpayClientParamsJSON is what the frontend passes to the Bootpay JS
// SDK's request (application_id only when the account's settings have
// client_application_id).
type bootpayClientParamsJSON struct {
	ApplicationID string `json:"application_id,omitempty"`
	Method        string `json:"method"`
	UserToken     string `json:"user_token"`
	PG            string `json:"pg"`
}

func (s *Server) createBootpayUserToken(w http.ResponseWriter, r *http.Request) {
	var in bootpayUserTokenRequest
	if err := decodeJSON(r, &in); err != nil {
		renderError(w, r, err)
		return
	}
	id := chi.URLParam(r, "id")
	if !billing.ValidID(billing.PrefixCustomer, id) {
		renderError(w, r, billing.NotFound("customer", id))
		return
	}
	var pg string
	if in.PG != nil {
		var err error
		if pg, err = billing.BootpayEasyPG("pg", *in.PG); err != nil {
			renderError(w, r, err)
			return
		}
	}
	ctx := r.Context()
	p := principalFrom(ctx)
	c, err := s.store.GetCustomer(ctx, p.MerchantID, p.Mode, id)
	if err != nil {
		renderError(w, r, err)
		return
	}
	if c.ExternalID == nil {
		renderError(w, r, &billing.Error{Code: billing.EInvalid, Reason: "external_id_required",
			Message: fmt.Sprintf("customer %s has no external_id; Bootpay's user_id is the customer's external_id: set it with PATCH /v1/customers/%s", c.ID, c.ID)})
		return
	}
	account, err := s.store.FindProviderAccount(ctx, p.MerchantID, p.Mode, providers.Bootpay)
	if err != nil {
		renderError(w, r, err)
		return
	}
	if pg == "" {
		if pg, err = defaultEasyPG(account); err != nil {
			renderError(w, r, err)
			return
		}
	}
	if pg == "payapp" && c.Phone == nil {
		// Bootpay: the phone is required for payapp, optional elsewhere.
		renderError(w, r, &billing.Error{Code: billing.EInvalid, Reason: "customer_phone_required", Param: "pg",
			Message: fmt.Sprintf("payapp's easy window needs the customer's phone; set it with PATCH /v1/customers/%s", c.ID)})
		return
	}

	req := userTokenRequestOf(c)
	issuedFor, err := json.Marshal(struct {
		Request bootpay.UserTokenRequest
		Account string
		Version time.Time
	}{req, account.ID, account.UpdatedAt})
	if err != nil {
		renderError(w, r, err)
		return
	}
	now := time.Now()
	tok, found, err := s.store.CachedBootpayUserToken(ctx, p.MerchantID, p.Mode, c.ID, account.ID, issuedFor)
	if err != nil {
		renderError(w, r, err)
		return
	}
	if !found || !tok.Reusable(now) {
		client, err := s.gateways.Bootpay(account)
		if err != nil {
			renderError(w, r, err)
			return
		}
		issued, err := client.UserToken(ctx, req)
		if err != nil {
			renderError(w, r, providerFailure(r, "user token", err))
			return
		}
		tok = billing.BootpayUserToken{MerchantID: p.MerchantID, Mode: p.Mode, CustomerID: c.ID, ProviderAccountID: account.ID,
			Token: issued.Token, ExpiresAt: issued.ExpiresAt}
		if err := s.store.SaveBootpayUserToken(ctx, tok, issuedFor); err != nil {
			renderError(w, r, err)
			return
		}
	}
	appID, _ := account.Settings["client_application_id"].(string)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, bootpayUserTokenJSON{
		Object: "bootpay_user_token", CustomerID: c.ID, Mode: string(p.Mode), UserToken: tok.Token,
		ExpiresAt:    timestamp(tok.ExpiresAt),
		ClientParams: bootpayClientParamsJSON{ApplicationID: appID, Method: "easy_card", UserToken: tok.Token, PG: pg},
	})
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
// (Bootpay's SDK samples ask for six digits).
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

// providerFailure turns a PG adapter's error into what the merchant sees:
// a provider_error (502) carrying the PG's code, never a 500 — the PG
// refusing or failing is not billingd's fault. The PG's message is not
// shown (it may echo what was sent); the kind and code are logged.
func providerFailure(r *http.Request, what string, err error) error {
	pe, ok := providers.AsError(err)
	if !ok {
		return err
	}
	zerolog.Ctx(r.Context()).Warn().Str("provider", pe.Provider).Str("op", pe.Op).Str("kind", pe.Kind.Error()).
		Str("provider_code", pe.PGCode).Msg("provider call failed")
	be := &billing.Error{Code: billing.EProvider, ProviderCode: pe.PGCode, Err: err}
	switch {
	case errors.Is(err, providers.ErrAuth):
		be.Reason = "provider_authentication_failed"
		be.Message = fmt.Sprintf("%s refused the merchant's %s credentials; check the provider account", pe.Provider, pe.Provider)
	case errors.Is(err, providers.ErrRejected), errors.Is(err, providers.ErrDeclined), errors.Is(err, providers.ErrNotFound):
		be.Reason = "provider_rejected"
		be.Message = fmt.Sprintf("%s refused the %s request", pe.Provider, what)
	default:
		be.Reason = "provider_unavailable"
		be.Message = fmt.Sprintf("%s did not answer the %s request usably; nothing was stored, retry later", pe.Provider, what)
	}
	if pe.PGCode != "" {
		be.Message += " (provider_code " + pe.PGCode + ")"
	}
	return be
}
