package demo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// This file is the demo's "merchant backend": what a merchant's server does
// before the browser opens the PG's window. It holds the secret key and
// calls billingd's public API over HTTP, exactly as a merchant would.

type registrationRequest struct {
	Provider     string `json:"provider"`
	PG           string `json:"pg"`
	MRedirectURL string `json:"m_redirect_url,omitempty"`
}

// register serves POST /sandbox/demo/backend/registrations: a new customer
// and a pending billing key for it; it answers with billingd's billing key
// (id, client_secret, client_params, client_init) for the page. billingd's
// errors are passed through as they are.
func (h *Handler) register(w http.ResponseWriter, r *http.Request) {
	var in registrationRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]string{
			"type": "invalid_request_error", "message": "body must be JSON: {provider, pg, m_redirect_url?}"}})
		return
	}
	var customer struct {
		ID string `json:"id"`
	}
	status, raw, err := h.call(r, "/v1/customers", map[string]any{
		"name": "데모 고객", "email": "demo@example.com", "phone": "010-1234-5678"}, &customer)
	if err != nil || status != http.StatusCreated {
		h.passThrough(w, status, raw, err)
		return
	}
	body := map[string]any{"customer_id": customer.ID, "provider": in.Provider, "pg": in.PG,
		"order_name": "데모 정기결제", "display_amount": 9900}
	if in.MRedirectURL != "" {
		body["m_redirect_url"] = in.MRedirectURL
	}
	status, raw, err = h.call(r, "/v1/billing_keys", body, nil)
	if err != nil || status != http.StatusCreated {
		h.passThrough(w, status, raw, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(raw)
}

// call POSTs body to billingd's API with the secret key.
func (h *Handler) call(r *http.Request, path string, body any, out any) (int, []byte, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, h.opts.APIBase+path, bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+h.opts.SecretKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.opts.HTTPClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil, err
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			return 0, nil, fmt.Errorf("decode %s: %w", path, err)
		}
	}
	return resp.StatusCode, raw, nil
}

func (h *Handler) passThrough(w http.ResponseWriter, status int, raw []byte, err error) {
	if err != nil {
		// The message names the API call, never the key.
		writeJSON(w, http.StatusBadGateway, map[string]any{"error": map[string]string{
			"type": "api_error", "message": "the demo backend could not reach billingd's API"}})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(raw)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
