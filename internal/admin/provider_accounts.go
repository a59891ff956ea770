package admin

import (
	"context"

	"github.com/billingd/billingd/internal/billing"
)

// ProviderAccountInput creates or changes a provider account. On update,
// absent fields stay as they are; credentials are replaced whole.
type ProviderAccountInput struct {
	Provider    string                `json:"provider"`
	Mode        string                `json:"mode"`
	Credentials map[string]string     `json:"credentials"`
	BaseURL     billing.Field[string] `json:"base_url"`
	Settings    map[string]any        `json:"settings"`
}

// CreateProviderAccount stores a merchant's PG account with its credentials
// sealed.
func (s *Service) CreateProviderAccount(ctx context.Context, merchantID string, in ProviderAccountInput) (billing.ProviderAccount, error) {
	if !billing.ValidID(billing.PrefixMerchant, merchantID) {
		return billing.ProviderAccount{}, billing.NotFound("merchant", merchantID)
	}
	if err := billing.ValidateProvider("provider", in.Provider); err != nil {
		return billing.ProviderAccount{}, err
	}
	mode, err := billing.ParseMode("mode", in.Mode)
	if err != nil {
		return billing.ProviderAccount{}, err
	}
	a := billing.ProviderAccount{
		ID:          billing.NewID(billing.PrefixProviderAccount),
		MerchantID:  merchantID,
		Mode:        mode,
		Provider:    in.Provider,
		Credentials: in.Credentials,
		Settings:    in.Settings,
	}
	if p := in.BaseURL.Ptr(); p != nil {
		a.BaseURL = *p
	}
	if a.Settings == nil {
		a.Settings = map[string]any{}
	}
	if err := a.Validate(); err != nil {
		return billing.ProviderAccount{}, err
	}
	return s.store.CreateProviderAccount(ctx, a)
}

// UpdateProviderAccount changes credentials, base URL or settings. Provider
// and mode are fixed for the account's life: a different PG is a new account.
func (s *Service) UpdateProviderAccount(ctx context.Context, id string, in ProviderAccountInput) (billing.ProviderAccount, error) {
	if !billing.ValidID(billing.PrefixProviderAccount, id) {
		return billing.ProviderAccount{}, billing.NotFound("provider account", id)
	}
	return s.store.UpdateProviderAccount(ctx, id, func(a *billing.ProviderAccount) error {
		if in.Provider != "" && in.Provider != a.Provider {
			return billing.Invalid("provider", "provider cannot change; create a new account")
		}
		if in.Mode != "" && in.Mode != string(a.Mode) {
			return billing.Invalid("mode", "mode cannot change; create a new account")
		}
		if in.Credentials != nil {
			a.Credentials = in.Credentials
		}
		if in.BaseURL.Present {
			a.BaseURL = ""
			if p := in.BaseURL.Ptr(); p != nil {
				a.BaseURL = *p
			}
		}
		if in.Settings != nil {
			a.Settings = in.Settings
		}
		return nil
	})
}

// GetProviderAccount reads one account.
func (s *Service) GetProviderAccount(ctx context.Context, id string) (billing.ProviderAccount, error) {
	if !billing.ValidID(billing.PrefixProviderAccount, id) {
		return billing.ProviderAccount{}, billing.NotFound("provider account", id)
	}
	return s.store.GetProviderAccount(ctx, id)
}

// ListProviderAccounts lists a merchant's accounts.
func (s *Service) ListProviderAccounts(ctx context.Context, merchantID string) ([]billing.ProviderAccount, error) {
	if _, err := s.GetMerchant(ctx, merchantID); err != nil {
		return nil, err
	}
	return s.store.ListProviderAccounts(ctx, merchantID)
}

// DeleteProviderAccount removes an account.
func (s *Service) DeleteProviderAccount(ctx context.Context, id string) error {
	if !billing.ValidID(billing.PrefixProviderAccount, id) {
		return billing.NotFound("provider account", id)
	}
	return s.store.DeleteProviderAccount(ctx, id)
}
