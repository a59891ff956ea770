package payments

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/providers"
	"github.com/billingd/billingd/internal/providers/portone"
)

// CardInput is card data for PGs that issue billing keys over REST. It is
// passed to the PG and forgotten: never stored, never logged.
type CardInput struct {
	Number    string `json:"number"`
	Expiry    string `json:"expiry"` // YYYY-MM
	Birth     string `json:"birth"`  // YYMMDD, or a 10-digit business number
	Password2 string `json:"pwd_2digit"`
}

// String keeps card data out of any log line that prints the input.
func (CardInput) String() string { return "CardInput{redacted}" }

// GoString does the same for %#v.
func (CardInput) GoString() string { return "CardInput{redacted}" }

// CreateBillingKeyInput starts a registration.
type CreateBillingKeyInput struct {
	CustomerID string `json:"customer_id"`
	Provider   string `json:"provider"`
	PG         string `json:"pg"`
	// MRedirectURL is where the payment window returns on mobile (and
	// always for CHAI).
	MRedirectURL string `json:"m_redirect_url"`
	// DisplayAmount is the amount the window shows; no money moves.
	DisplayAmount int64      `json:"display_amount"`
	OrderName     string     `json:"order_name"`
	Card          *CardInput `json:"card"`
	// ChannelKey names the PortOne V2 channel to issue on, instead of the
	// account's default; Method is its billingKeyMethod (CARD or EASY_PAY).
	ChannelKey string `json:"channel_key"`
	Method     string `json:"method"`
}

// Registration is a new billing key with what the frontend needs to finish
// it.
type Registration struct {
	Key          billing.BillingKey
	ClientSecret string
	ClientParams map[string]any // the PG window's parameters, exactly
	ClientInit   map[string]any // what the PG's JS SDK is initialised with
}

// CreateBillingKey starts a registration. With card data and a PG that
// issues keys over REST, it issues the key at once; otherwise it returns a
// pending key and the parameters of the PG's payment window.
func (s *Service) CreateBillingKey(ctx context.Context, c Caller, in CreateBillingKeyInput) (Registration, error) {
	var reg Registration
	if !billing.ValidID(billing.PrefixCustomer, in.CustomerID) {
		return reg, billing.Invalid("customer_id", "customer_id must name one of your customers")
	}
	customer, err := s.store.GetCustomer(ctx, c.MerchantID, c.Mode, in.CustomerID)
	if err != nil {
		if billing.ErrorCode(err) == billing.ENotFound {
			return reg, billing.Invalid("customer_id", "no such customer: %q", in.CustomerID)
		}
		return reg, err
	}
	if err := billing.ValidateProvider("provider", in.Provider); err != nil {
		return reg, err
	}
	account, err := s.store.FindProviderAccount(ctx, c.MerchantID, c.Mode, in.Provider)
	if err != nil {
		return reg, err
	}
	pg := in.PG
	if account.Provider == providers.Portone {
		// The channel is the PG at PortOne: it is what the key records.
		if pg, err = portoneChannel(account, in); err != nil {
			return reg, err
		}
	}
	if pg == "" {
		pg, _ = account.Settings["default_pg"].(string)
	}
	if pg == "" {
		return reg, billing.Invalid("pg", "pg is required (or set default_pg on the %s account)", in.Provider)
	}
	if in.DisplayAmount < 0 {
		return reg, billing.Invalid("display_amount", "display_amount must not be negative")
	}
	if in.MRedirectURL != "" {
		if u, err := url.Parse(in.MRedirectURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return reg, billing.Invalid("m_redirect_url", "m_redirect_url must be an absolute http(s) URL")
		}
	}

	key := billing.BillingKey{
		ID: billing.NewID(billing.PrefixBillingKey), MerchantID: c.MerchantID, Mode: c.Mode,
		CustomerID: customer.ID, ProviderAccountID: account.ID, Provider: account.Provider,
		PG: pg, Status: billing.KeyPending, Alias: billing.NewBillingKeyAlias(),
		ExpiresAt: s.clock.Now(c.Mode).Add(billing.PendingKeyTTL),
	}
	reg.ClientSecret, key.ClientSecretHash = billing.NewClientSecret(key.ID)

	if in.Card != nil {
		key.Method = billing.IssueREST
		return s.issueOverREST(ctx, reg, key, account, customer, in)
	}
	key.Method = billing.IssueWindow
	if v, _ := account.Settings["api_version"].(string); account.Provider == providers.Bootpay && v == "v1" {
		// Bootpay v1 has no lookup of a window-issued key: billingd could
		// not confirm it with the PG, only believe the browser.
		return reg, billing.Invalid("card", "legacy (v1) Bootpay accounts cannot confirm window-issued keys with the PG; send card data (REST issuance) or use a v2 account")
	}
	reg.ClientParams, reg.ClientInit, err = windowParams(key, account, customer, in, account.WebhookURL(s.publicURL))
	if err != nil {
		return reg, err
	}
	// Build the account's client now: a misconfigured account fails here,
	// not after the customer went through the window (and a sandbox
	// account becomes known to the sandbox's window).
	if _, err := s.gateways.For(account); err != nil {
		return reg, err
	}
	err = s.withTx(ctx, func(tx pgx.Tx) error { return s.store.CreateBillingKey(ctx, tx, key) })
	if err != nil {
		return reg, err
	}
	reg.Key, err = s.store.GetBillingKey(ctx, c.MerchantID, c.Mode, key.ID)
	return reg, err
}

// issueOverREST sends card data to a REST-issuing PG and stores the result.
func (s *Service) issueOverREST(ctx context.Context, reg Registration, key billing.BillingKey, account billing.ProviderAccount, customer billing.Customer, in CreateBillingKeyInput) (Registration, error) {
	if key.Provider == providers.Iamport {
		capability, ok := providers.IamportPG(key.PG)
		if !ok {
			return reg, billing.Invalid("pg", "unknown Iamport pg %q", key.PG)
		}
		if capability.Issuance != providers.IssueByREST {
			return reg, billing.Invalid("card", "%s issues billing keys only through its payment window; omit card and open the window with client_params", key.PG)
		}
	}
	if err := validateCard(*in.Card); err != nil {
		return reg, err
	}
	if key.Provider == providers.Portone && key.PG != defaultChannel(account) {
		return reg, billing.Invalid("channel_key", "card data is issued on the account's channel_key; another channel_key needs the payment window")
	}
	pgClient, err := s.gateways.For(account)
	if err != nil {
		return reg, err
	}
	pctx, cancel := s.pgContext(ctx)
	defer cancel()
	issued, err := pgClient.IssueBillingKey(pctx, providers.IssueBillingKeyRequest{
		Key: key.Alias, PG: pgParam(key.PG, account), OrderName: in.OrderName,
		Card:       providers.CardData{Number: digitsOnly(in.Card.Number), Expiry: in.Card.Expiry, Birth: in.Card.Birth, Password2: in.Card.Password2},
		Buyer:      buyer(customer),
		CustomerID: customer.ID, NoticeURL: account.WebhookURL(s.publicURL),
	})
	// The PG's answer is recorded whether or not the client still waits.
	rctx, rcancel := recordContext(ctx)
	defer rcancel()
	if err != nil {
		// Keep the failed attempt (without card data) so the merchant sees it.
		if recErr := s.recordFailedKey(rctx, key, err); recErr != nil {
			return reg, recErr
		}
		stored, _ := s.store.GetBillingKey(ctx, key.MerchantID, key.Mode, key.ID)
		return reg, providerError("issue billing key", err, "billing_key", stored)
	}
	err = s.withTx(rctx, func(tx pgx.Tx) error {
		if err := s.store.CreateBillingKey(rctx, tx, key); err != nil {
			return err
		}
		return s.activate(rctx, tx, key, issued)
	})
	if err != nil {
		return reg, err
	}
	reg.Key, err = s.store.GetBillingKey(ctx, key.MerchantID, key.Mode, key.ID)
	return reg, err
}

func (s *Service) recordFailedKey(ctx context.Context, key billing.BillingKey, cause error) error {
	code, message := failureOf(cause)
	return s.withTx(ctx, func(tx pgx.Tx) error {
		if err := s.store.CreateBillingKey(ctx, tx, key); err != nil {
			return err
		}
		if _, err := s.store.FailBillingKey(ctx, tx, key.ID, code, message); err != nil {
			return err
		}
		failed, err := s.store.LockBillingKey(ctx, tx, key.MerchantID, key.Mode, key.ID)
		if err != nil {
			return err
		}
		return s.event(ctx, tx, key.MerchantID, key.Mode, billing.EventBillingKeyFailed, "billing_key", key.ID, failed)
	})
}

// activate moves a pending key to active with the PG's details, and
// writes the event.
func (s *Service) activate(ctx context.Context, tx pgx.Tx, key billing.BillingKey, issued providers.BillingKey) error {
	key.ProviderKey = issued.Key
	if key.ProviderKey == "" {
		key.ProviderKey = key.Alias
	}
	key.CardName, key.CardNumber, key.CardType = nonEmpty(issued.CardName), nonEmpty(issued.CardNumber), nonEmpty(issued.CardType)
	changed, err := s.store.ActivateBillingKey(ctx, tx, key)
	if err != nil || !changed {
		return err
	}
	active, err := s.store.LockBillingKey(ctx, tx, key.MerchantID, key.Mode, key.ID)
	if err != nil {
		return err
	}
	return s.event(ctx, tx, key.MerchantID, key.Mode, billing.EventBillingKeyActivated, "billing_key", key.ID, active)
}

// ConfirmInput confirms a window registration.
type ConfirmInput struct {
	ClientSecret string `json:"client_secret"`
	// ReceiptID is the window's receipt (Bootpay).
	ReceiptID string `json:"receipt_id"`
	// BillingKey is the key string PortOne V2's window returned.
	BillingKey string `json:"billing_key"`
}

// ConfirmBillingKey asks the PG whether the window issued the key and
// activates it. A publishable key must present the registration's client
// secret. Confirming an active key again returns it unchanged.
func (s *Service) ConfirmBillingKey(ctx context.Context, c Caller, id string, in ConfirmInput) (billing.BillingKey, error) {
	key, err := s.getKey(ctx, c, id)
	if err != nil {
		return key, err
	}
	if !c.Secret && !key.CheckClientSecret(in.ClientSecret) {
		// The same answer as an unknown id: a frontend learns nothing.
		return key, billing.NotFound("billing key", id)
	}
	switch key.Status {
	case billing.KeyActive:
		return key, nil
	case billing.KeyFailed, billing.KeyDeleted:
		return key, &billing.Error{Code: billing.EConflict, Reason: "billing_key_" + string(key.Status),
			Message: fmt.Sprintf("billing key %s is %s; start a new registration", id, key.Status)}
	}
	if s.clock.Now(key.Mode).After(key.ExpiresAt) {
		if err := s.expire(ctx, key); err != nil {
			return key, err
		}
		return key, &billing.Error{Code: billing.EConflict, Reason: "registration_expired",
			Message: fmt.Sprintf("registration %s expired at %s; start a new one", id, key.ExpiresAt.UTC().Format("2006-01-02T15:04:05Z"))}
	}
	if key.Provider == providers.Bootpay && in.ReceiptID == "" {
		return key, billing.Invalid("receipt_id", "receipt_id from the Bootpay window is required")
	}
	verify := providers.VerifyBillingKeyRequest{Key: key.Alias, ReceiptID: in.ReceiptID}
	if key.Provider == providers.Portone {
		if in.BillingKey = strings.TrimSpace(in.BillingKey); in.BillingKey == "" || len(in.BillingKey) > 200 {
			return key, billing.Invalid("billing_key", "billing_key from PortOne.requestIssueBillingKey is required")
		}
		// The key must have been issued for this registration (issueId is
		// the key's id) and customer: a string from anyone else is refused.
		verify = providers.VerifyBillingKeyRequest{Key: in.BillingKey, IssueID: key.ID, CustomerID: key.CustomerID}
	}

	account, err := s.store.GetProviderAccount(ctx, key.ProviderAccountID)
	if err != nil {
		return key, err
	}
	pgClient, err := s.gateways.For(account)
	if err != nil {
		return key, err
	}
	pctx, cancel := s.pgContext(ctx)
	defer cancel()
	issued, err := pgClient.VerifyBillingKey(pctx, verify)
	// The PG's answer is recorded whether or not the client still waits.
	rctx, rcancel := recordContext(ctx)
	defer rcancel()
	switch {
	case errors.Is(err, portone.ErrForeignBillingKey):
		// Someone else's key says nothing about this registration: it
		// stays pending for the customer's own key, and nothing is attached.
		return key, &billing.Error{Code: billing.EConflict, Reason: "billing_key_foreign",
			Message: "this billing key was not issued for this registration and customer"}
	case errors.Is(err, providers.ErrNotFound):
		return key, &billing.Error{Code: billing.EConflict, Reason: "billing_key_not_issued",
			Message: "the PG has not issued this billing key yet; complete the payment window, then confirm again"}
	case errors.Is(err, providers.ErrDeclined), errors.Is(err, providers.ErrRejected):
		if err := s.fail(rctx, key, err); err != nil {
			return key, err
		}
		failed, _ := s.store.GetBillingKey(ctx, c.MerchantID, c.Mode, id)
		return failed, providerError("confirm billing key", err, "billing_key", failed)
	case err != nil:
		return key, providerError("confirm billing key", err, "", nil)
	}
	if err := s.withTx(rctx, func(tx pgx.Tx) error { return s.activate(rctx, tx, key, issued) }); err != nil {
		return key, err
	}
	return s.store.GetBillingKey(ctx, c.MerchantID, c.Mode, id)
}

func (s *Service) fail(ctx context.Context, key billing.BillingKey, cause error) error {
	code, message := failureOf(cause)
	return s.withTx(ctx, func(tx pgx.Tx) error {
		changed, err := s.store.FailBillingKey(ctx, tx, key.ID, code, message)
		if err != nil || !changed {
			return err
		}
		failed, err := s.store.LockBillingKey(ctx, tx, key.MerchantID, key.Mode, key.ID)
		if err != nil {
			return err
		}
		return s.event(ctx, tx, key.MerchantID, key.Mode, billing.EventBillingKeyFailed, "billing_key", key.ID, failed)
	})
}

func (s *Service) expire(ctx context.Context, key billing.BillingKey) error {
	return s.fail(ctx, key, &providers.Error{Kind: providers.ErrRejected, PGCode: "registration_expired",
		PGMessage: "the registration was not confirmed in time"})
}

// GetBillingKey reads a key. A publishable key needs the client secret.
func (s *Service) GetBillingKey(ctx context.Context, c Caller, id, clientSecret string) (billing.BillingKey, error) {
	key, err := s.getKey(ctx, c, id)
	if err == nil && !c.Secret && !key.CheckClientSecret(clientSecret) {
		return billing.BillingKey{}, billing.NotFound("billing key", id)
	}
	return key, err
}

func (s *Service) getKey(ctx context.Context, c Caller, id string) (billing.BillingKey, error) {
	if !billing.ValidID(billing.PrefixBillingKey, id) {
		return billing.BillingKey{}, billing.NotFound("billing key", id)
	}
	return s.store.GetBillingKey(ctx, c.MerchantID, c.Mode, id)
}

func validateCard(c CardInput) error {
	digits := func(s string, min, max int) bool {
		if len(s) < min || len(s) > max {
			return false
		}
		for _, r := range s {
			if r < '0' || r > '9' {
				return false
			}
		}
		return true
	}
	switch {
	case !digits(digitsOnly(c.Number), 14, 19):
		return billing.Invalid("card.number", "card.number must be 14 to 19 digits")
	case len(c.Expiry) != 7 || c.Expiry[4] != '-' || !digits(c.Expiry[:4], 4, 4) || !digits(c.Expiry[5:], 2, 2):
		return billing.Invalid("card.expiry", "card.expiry must be YYYY-MM")
	case !digits(c.Birth, 6, 6) && !digits(c.Birth, 10, 10):
		return billing.Invalid("card.birth", "card.birth must be YYMMDD or a 10-digit business number")
	case c.Password2 != "" && !digits(c.Password2, 2, 2):
		return billing.Invalid("card.pwd_2digit", "card.pwd_2digit must be two digits")
	}
	return nil
}

// digitsOnly drops the dashes and spaces people type in card numbers.
func digitsOnly(s string) string {
	return strings.NewReplacer("-", "", " ", "").Replace(s)
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
