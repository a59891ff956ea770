package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	portonesandbox "github.com/billingd/billingd/internal/providers/portone/sandbox"
)

// portoneStore is a merchant's PortOne V2 store at the sandbox: what the
// floor arm needs to charge it without billingd.
type portoneStore struct {
	apiSecret, storeID, channelKey string
	// pgKeys are billing keys issued straight at the sandbox for the floor
	// (billingd's own keys never leave it).
	pgKeys []string
}

func startPortoneSandbox(host string, latency time.Duration) (*pgSandbox, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, err
	}
	sb := portonesandbox.New(portonesandbox.Options{Latency: latency, HTTPClient: newClient(10 * time.Second)})
	// The charge path alone: PortOne's notifications stay off (the PG
	// webhooks arm is Iamport's).
	sb.SetWebhooksEnabled(false)
	p := &pgSandbox{latency: latency, portone: sb, srv: &http.Server{Handler: sb, ReadHeaderTimeout: 5 * time.Second},
		url: "http://" + ln.Addr().String()}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// setupPortoneMerchant creates a merchant with a PortOne V2 account on sb
// and n customers with an active billing key each, issued by billingd over
// REST with card data; and n keys straight at the sandbox for the floor.
func (s *stack) setupPortoneMerchant(ctx context.Context, sb *pgSandbox, n int) (*merchant, error) {
	m, err := s.newMerchant(ctx, sb, "bench portone "+msLabel(sb.latency))
	if err != nil {
		return nil, err
	}
	st := &portoneStore{apiSecret: "portone-secret-" + randomHex(16), storeID: "store-" + randomHex(8) + "-bench",
		channelKey: "channel-key-bench"}
	whsec := "whsec_" + base64.StdEncoding.EncodeToString([]byte(randomHex(16)))
	sb.portone.AddAccount(portonesandbox.Account{APISecret: st.apiSecret, StoreID: st.storeID, WebhookSecret: whsec})
	var obj struct {
		ID string `json:"id"`
	}
	err = s.api(ctx, "POST", "/admin/v1/merchants/"+m.id+"/provider_accounts", s.adminToken, map[string]any{
		"provider": "portone", "mode": "test", "base_url": sb.url,
		"credentials": map[string]any{"api_secret": st.apiSecret, "webhook_secret": whsec},
		"settings":    map[string]any{"store_id": st.storeID, "channel_key": st.channelKey},
	}, &obj, 201)
	if err != nil {
		return nil, err
	}
	m.accountID, m.portone = obj.ID, st

	m.keys, m.customerUIDs, st.pgKeys = make([]string, n), make([]string, n), make([]string, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	var mu sync.Mutex
	for i := range n {
		g.Go(func() error {
			cusID, err := s.newCustomer(gctx, m, i)
			if err != nil {
				return err
			}
			var key struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			}
			err = s.api(gctx, "POST", "/v1/billing_keys", m.secret, map[string]any{
				"customer_id": cusID, "provider": "portone",
				"card": map[string]any{"number": "4111-1111-1111-1111", "expiry": "2035-12", "birth": "900101", "pwd_2digit": "12"},
			}, &key, 201)
			if err != nil {
				return err
			}
			if key.Status != "active" {
				return fmt.Errorf("portone billing key %s is %s, want active", key.ID, key.Status)
			}
			pgKey, err := st.issue(gctx, sb.url, i)
			if err != nil {
				return err
			}
			mu.Lock()
			m.keys[i], m.customerID, st.pgKeys[i] = key.ID, cusID, pgKey
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return m, nil
}

// issue gets a billing key straight from the sandbox (POST /billing-keys).
func (st *portoneStore) issue(ctx context.Context, base string, i int) (string, error) {
	b, _ := json.Marshal(map[string]any{"storeId": st.storeID, "channelKey": st.channelKey,
		"customer": map[string]any{"id": fmt.Sprintf("floor-%d", i)},
		"method": map[string]any{"card": map[string]any{"credential": map[string]string{
			"number": "4111111111111111", "expiryYear": "35", "expiryMonth": "12"}}}})
	req, err := st.request(ctx, base+"/billing-keys", string(b))
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		BillingKeyInfo struct {
			BillingKey string `json:"billingKey"`
		} `json:"billingKeyInfo"`
		Type string `json:"type"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || out.BillingKeyInfo.BillingKey == "" {
		return "", fmt.Errorf("sandbox POST /billing-keys: %d %s %v", resp.StatusCode, out.Type, err)
	}
	return out.BillingKeyInfo.BillingKey, nil
}

func (st *portoneStore) request(ctx context.Context, url, body string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "PortOne "+st.apiSecret)
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}

// floorRequester charges the sandbox the way billingd's adapter does:
// POST /payments/{paymentId}/billing-key, one fresh paymentId each.
func (st *portoneStore) floorRequester(ctx context.Context, client *http.Client, base, run string) func(i int) outcome {
	n := len(st.pgKeys)
	return func(i int) outcome {
		body := fmt.Sprintf(`{"storeId":%q,"billingKey":%q,"channelKey":%q,"orderName":"bench","amount":{"total":1000},"currency":"KRW"}`,
			st.storeID, st.pgKeys[i%n], st.channelKey)
		req, err := st.request(ctx, fmt.Sprintf("%s/payments/floor-%s-%d/billing-key", base, run, i), body)
		if err != nil {
			return outcome{appMS: -1, err: err.Error()}
		}
		return send(client, req, http.StatusOK, []byte(`"pgTxId"`))
	}
}
