// Package admin is the operator's side of billingd: merchants, their API
// keys and their PG provider accounts. The admin HTTP API and the `billingd
// admin` commands both call it, so the two cannot drift apart.
package admin

import (
	"context"
	"strings"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/store"
)

// Service performs operator actions.
type Service struct {
	store         *store.Store
	publicBaseURL string
}

// New returns a Service. publicBaseURL is where PGs reach billingd; it makes
// each provider account's webhook URL.
func New(s *store.Store, publicBaseURL string) *Service {
	return &Service{store: s, publicBaseURL: publicBaseURL}
}

// WebhookURL is where the PG must post notifications for an account.
func (s *Service) WebhookURL(a billing.ProviderAccount) string { return a.WebhookURL(s.publicBaseURL) }

// CreateMerchant creates a merchant.
func (s *Service) CreateMerchant(ctx context.Context, name string) (billing.Merchant, error) {
	if err := billing.ValidateMerchantName(name); err != nil {
		return billing.Merchant{}, err
	}
	return s.store.CreateMerchant(ctx, billing.Merchant{ID: billing.NewID(billing.PrefixMerchant), Name: strings.TrimSpace(name)})
}

// GetMerchant reads a merchant.
func (s *Service) GetMerchant(ctx context.Context, id string) (billing.Merchant, error) {
	if !billing.ValidID(billing.PrefixMerchant, id) {
		return billing.Merchant{}, billing.NotFound("merchant", id)
	}
	return s.store.GetMerchant(ctx, id)
}

// CreateAPIKey mints a key and returns it with its plaintext, which is shown
// this once and never again.
func (s *Service) CreateAPIKey(ctx context.Context, merchantID, kind, mode string) (billing.APIKey, string, error) {
	k, err := billing.ParseKeyKind("kind", kind)
	if err != nil {
		return billing.APIKey{}, "", err
	}
	m, err := billing.ParseMode("mode", mode)
	if err != nil {
		return billing.APIKey{}, "", err
	}
	if !billing.ValidID(billing.PrefixMerchant, merchantID) {
		return billing.APIKey{}, "", billing.NotFound("merchant", merchantID)
	}
	key, secret := billing.NewAPIKey(merchantID, k, m)
	key, err = s.store.CreateAPIKey(ctx, key)
	if err != nil {
		return billing.APIKey{}, "", err
	}
	return key, secret, nil
}

// ListAPIKeys lists a merchant's keys (hints only).
func (s *Service) ListAPIKeys(ctx context.Context, merchantID string) ([]billing.APIKey, error) {
	if _, err := s.GetMerchant(ctx, merchantID); err != nil {
		return nil, err
	}
	return s.store.ListAPIKeys(ctx, merchantID)
}

// RevokeAPIKey revokes a key; requests with it fail from now on.
func (s *Service) RevokeAPIKey(ctx context.Context, id string) (billing.APIKey, error) {
	if !billing.ValidID(billing.PrefixAPIKey, id) {
		return billing.APIKey{}, billing.NotFound("api key", id)
	}
	return s.store.RevokeAPIKey(ctx, id)
}

// UpdateMerchantSettings replaces a merchant's settings (its dunning
// policy: {"dunning": {"retry_after": ["24h", …], "on_exhausted": …}}).
func (s *Service) UpdateMerchantSettings(ctx context.Context, id string, settings map[string]any) (billing.Merchant, error) {
	if !billing.ValidID(billing.PrefixMerchant, id) {
		return billing.Merchant{}, billing.NotFound("merchant", id)
	}
	if settings == nil {
		settings = map[string]any{}
	}
	if err := billing.ValidateMerchantSettings(settings); err != nil {
		return billing.Merchant{}, err
	}
	if err := s.store.SetMerchantSettings(ctx, id, settings); err != nil {
		return billing.Merchant{}, err
	}
	return s.store.GetMerchant(ctx, id)
}
