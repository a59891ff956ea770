package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// Bootpay user tokens (seed flow 1): the merchant backend asks for a token
// for one customer, billingd asks Bootpay with the customer's data and
// hands back the token and the parameters of the easy/password window. The
// rules (which data Bootpay gets, when a cached token is reused) are
// internal/identity's.
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
	res, err := s.identity.IssueUserToken(r.Context(), identityCaller(r), chi.URLParam(r, "id"), in.PG)
	if err != nil {
		renderError(w, r, err)
		return
	}
	tok := res.Token
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, bootpayUserTokenJSON{
		Object: "bootpay_user_token", CustomerID: tok.CustomerID, Mode: string(tok.Mode), UserToken: tok.Token,
		ExpiresAt:    timestamp(tok.ExpiresAt),
		ClientParams: bootpayClientParamsJSON{ApplicationID: res.ApplicationID, Method: "easy_card", UserToken: tok.Token, PG: res.PG},
	})
}
