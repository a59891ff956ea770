package api

import (
	"net/http"
	"sort"

	"github.com/go-chi/chi/v5"

	"github.com/billingd/billingd/internal/admin"
	"github.com/billingd/billingd/internal/billing"
)

type merchantJSON struct {
	ID        string         `json:"id"`
	Object    string         `json:"object"`
	Name      string         `json:"name"`
	Settings  map[string]any `json:"settings"`
	CreatedAt string         `json:"created_at"`
}

func toMerchantJSON(m billing.Merchant) merchantJSON {
	if m.Settings == nil {
		m.Settings = map[string]any{}
	}
	return merchantJSON{ID: m.ID, Object: "merchant", Name: m.Name, Settings: m.Settings, CreatedAt: timestamp(m.CreatedAt)}
}

type apiKeyJSON struct {
	ID         string  `json:"id"`
	Object     string  `json:"object"`
	MerchantID string  `json:"merchant_id"`
	Kind       string  `json:"kind"`
	Mode       string  `json:"mode"`
	Hint       string  `json:"hint"`
	Key        string  `json:"key,omitempty"` // only in the creation response
	CreatedAt  string  `json:"created_at"`
	RevokedAt  *string `json:"revoked_at"`
}

func toAPIKeyJSON(k billing.APIKey) apiKeyJSON {
	return apiKeyJSON{ID: k.ID, Object: "api_key", MerchantID: k.MerchantID, Kind: string(k.Kind), Mode: string(k.Mode),
		Hint: k.Hint, CreatedAt: timestamp(k.CreatedAt), RevokedAt: optionalTimestamp(k.RevokedAt)}
}

type providerAccountJSON struct {
	ID          string            `json:"id"`
	Object      string            `json:"object"`
	MerchantID  string            `json:"merchant_id"`
	Provider    string            `json:"provider"`
	Mode        string            `json:"mode"`
	Credentials map[string]string `json:"credentials"` // masked
	BaseURL     *string           `json:"base_url"`
	Settings    map[string]any    `json:"settings"`
	WebhookURL  string            `json:"webhook_url"`
	CreatedAt   string            `json:"created_at"`
	UpdatedAt   string            `json:"updated_at"`
}

func (s *Server) toProviderAccountJSON(a billing.ProviderAccount) providerAccountJSON {
	masked := make(map[string]string, len(a.Credentials))
	for k, v := range a.Credentials {
		masked[k] = maskSecret(v)
	}
	var baseURL *string
	if a.BaseURL != "" {
		baseURL = &a.BaseURL
	}
	return providerAccountJSON{ID: a.ID, Object: "provider_account", MerchantID: a.MerchantID, Provider: a.Provider,
		Mode: string(a.Mode), Credentials: masked, BaseURL: baseURL, Settings: a.Settings,
		WebhookURL: s.admin.WebhookURL(a), CreatedAt: timestamp(a.CreatedAt), UpdatedAt: timestamp(a.UpdatedAt)}
}

// maskSecret shows at most the last four characters of a long value, so an
// operator can tell which credential is set without it being readable.
func maskSecret(v string) string {
	if len(v) < 12 {
		return "****"
	}
	return "****" + v[len(v)-4:]
}

func (s *Server) createMerchant(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(r, &in); err != nil {
		renderError(w, r, err)
		return
	}
	m, err := s.admin.CreateMerchant(r.Context(), in.Name)
	if err != nil {
		renderError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toMerchantJSON(m))
}

func (s *Server) getMerchant(w http.ResponseWriter, r *http.Request) {
	m, err := s.admin.GetMerchant(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		renderError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toMerchantJSON(m))
}

func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Kind string `json:"kind"`
		Mode string `json:"mode"`
	}
	if err := decodeJSON(r, &in); err != nil {
		renderError(w, r, err)
		return
	}
	k, secret, err := s.admin.CreateAPIKey(r.Context(), chi.URLParam(r, "id"), in.Kind, in.Mode)
	if err != nil {
		renderError(w, r, err)
		return
	}
	out := toAPIKeyJSON(k)
	out.Key = secret
	// The key appears in this response only; never let a cache keep it.
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request) {
	if err := onlyParams(r.URL.Query()); err != nil {
		renderError(w, r, err)
		return
	}
	keys, err := s.admin.ListAPIKeys(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		renderError(w, r, err)
		return
	}
	out := make([]apiKeyJSON, len(keys))
	for i, k := range keys {
		out[i] = toAPIKeyJSON(k)
	}
	writeJSON(w, http.StatusOK, newList(out, false))
}

func (s *Server) revokeAPIKey(w http.ResponseWriter, r *http.Request) {
	k, err := s.admin.RevokeAPIKey(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		renderError(w, r, err)
		return
	}
	s.apiKeys.forget(k.ID) // other replicas: within the cache's TTL
	writeJSON(w, http.StatusOK, toAPIKeyJSON(k))
}

func (s *Server) createProviderAccount(w http.ResponseWriter, r *http.Request) {
	var in admin.ProviderAccountInput
	if err := decodeJSON(r, &in); err != nil {
		renderError(w, r, err)
		return
	}
	a, err := s.admin.CreateProviderAccount(r.Context(), chi.URLParam(r, "id"), in)
	if err != nil {
		renderError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, s.toProviderAccountJSON(a))
}

func (s *Server) listProviderAccounts(w http.ResponseWriter, r *http.Request) {
	if err := onlyParams(r.URL.Query()); err != nil {
		renderError(w, r, err)
		return
	}
	accounts, err := s.admin.ListProviderAccounts(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		renderError(w, r, err)
		return
	}
	out := make([]providerAccountJSON, len(accounts))
	for i, a := range accounts {
		out[i] = s.toProviderAccountJSON(a)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	writeJSON(w, http.StatusOK, newList(out, false))
}

func (s *Server) getProviderAccount(w http.ResponseWriter, r *http.Request) {
	a, err := s.admin.GetProviderAccount(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		renderError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.toProviderAccountJSON(a))
}

func (s *Server) updateProviderAccount(w http.ResponseWriter, r *http.Request) {
	var in admin.ProviderAccountInput
	if err := decodeJSON(r, &in); err != nil {
		renderError(w, r, err)
		return
	}
	a, err := s.admin.UpdateProviderAccount(r.Context(), chi.URLParam(r, "id"), in)
	if err != nil {
		renderError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.toProviderAccountJSON(a))
}

func (s *Server) deleteProviderAccount(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if err := s.admin.DeleteProviderAccount(r.Context(), id); err != nil {
		renderError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, deletedJSON{ID: id, Object: "provider_account", Deleted: true})
}

type deletedJSON struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Deleted bool   `json:"deleted"`
}

// updateMerchant changes a merchant's settings (the dunning policy).
func (s *Server) updateMerchant(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Settings map[string]any `json:"settings"`
	}
	if err := decodeJSON(r, &in); err != nil {
		renderError(w, r, err)
		return
	}
	m, err := s.admin.UpdateMerchantSettings(r.Context(), chi.URLParam(r, "id"), in.Settings)
	if err != nil {
		renderError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toMerchantJSON(m))
}
