package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	iamportsandbox "github.com/billingd/billingd/internal/providers/iamport/sandbox"
	portonesandbox "github.com/billingd/billingd/internal/providers/portone/sandbox"
)

// pgSandbox is the sandbox Iamport with a fixed reply latency, served by
// this process on loopback.
type pgSandbox struct {
	latency time.Duration
	sb      *iamportsandbox.Server // nil for a PortOne V2 sandbox
	portone *portonesandbox.Server // nil for an Iamport sandbox
	srv     *http.Server
	url     string
}

func startSandbox(host string, latency time.Duration, webhooks bool) (*pgSandbox, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, err
	}
	sb := iamportsandbox.New(iamportsandbox.Options{Latency: latency, HTTPClient: newClient(10 * time.Second)})
	sb.SetWebhooksEnabled(webhooks)
	p := &pgSandbox{latency: latency, sb: sb, srv: &http.Server{Handler: sb, ReadHeaderTimeout: 5 * time.Second},
		url: "http://" + ln.Addr().String()}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

func (p *pgSandbox) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = p.srv.Shutdown(ctx)
	if p.portone != nil {
		p.portone.Close()
		return
	}
	p.sb.Close()
}

// tokenCalls counts Iamport getToken calls; PortOne V2 has no tokens (its
// API secret goes in every request).
func (p *pgSandbox) tokenCalls() int {
	if p.portone != nil {
		return 0
	}
	return p.sb.Calls("POST /users/getToken")
}

func (p *pgSandbox) setWebhooks(on bool) {
	if p.portone != nil {
		p.portone.SetWebhooksEnabled(on)
		return
	}
	p.sb.SetWebhooksEnabled(on)
}

// newClient is an HTTP client whose keep-alive pool never makes an
// open-loop burst open and close connections.
func newClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        0,
			MaxIdleConnsPerHost: 8192,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
	}
}

// merchant is one test-mode merchant whose Iamport account is one sandbox,
// with customers that each have an active billing key.
type merchant struct {
	id, secret, accountID string
	impKey, impSecret     string
	sandbox               *pgSandbox
	keys                  []string      // billing key ids
	customerUIDs          []string      // the same keys' customer_uid at the PG
	customerID            string        // one customer, for pgbench's rows
	portone               *portoneStore // a PortOne V2 merchant (portone.go); nil for Iamport
}

// api calls billingd with JSON and decodes a JSON answer into out.
func (s *stack) api(ctx context.Context, method, path, auth string, body, out any, want int) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.billingd.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+auth)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// setupMerchant creates, through the operator and merchant APIs, a
// merchant with a secret test key, an Iamport account on sb, and n
// customers with an active billing key each (issued over REST).
func (s *stack) setupMerchant(ctx context.Context, sb *pgSandbox, n int) (*merchant, error) {
	tag := strconv.Itoa(int(sb.latency / time.Millisecond))
	m, err := s.newMerchant(ctx, sb, "bench "+tag+" ms")
	if err != nil {
		return nil, err
	}
	var obj struct {
		ID string `json:"id"`
	}
	m.impKey, m.impSecret = "imp_bench_"+tag+"_"+randomHex(4), "secret_"+randomHex(16)
	sb.sb.AddAccount(m.impKey, m.impSecret)
	err = s.api(ctx, "POST", "/admin/v1/merchants/"+m.id+"/provider_accounts", s.adminToken, map[string]any{
		"provider": "iamport", "mode": "test", "base_url": sb.url,
		"credentials": map[string]any{"imp_key": m.impKey, "imp_secret": m.impSecret},
		"settings":    map[string]any{"imp_code": "imp00000000", "default_pg": "nice"},
	}, &obj, 201)
	if err != nil {
		return nil, err
	}
	m.accountID = obj.ID

	m.keys, m.customerUIDs = make([]string, n), make([]string, n)
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
				ID          string `json:"id"`
				Status      string `json:"status"`
				CustomerUID string `json:"customer_uid"`
			}
			err = s.api(gctx, "POST", "/v1/billing_keys", m.secret, map[string]any{
				"customer_id": cusID, "provider": "iamport", "pg": "nice",
				"card": map[string]any{"number": "4111-1111-1111-1111", "expiry": "2035-12", "birth": "900101", "pwd_2digit": "12"},
			}, &key, 201)
			if err != nil {
				return err
			}
			if key.Status != "active" {
				return fmt.Errorf("billing key %s is %s, want active", key.ID, key.Status)
			}
			mu.Lock()
			m.keys[i], m.customerUIDs[i], m.customerID = key.ID, key.CustomerUID, cusID
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return m, nil
}

// newMerchant creates, through the operator API, a merchant with a secret
// test key.
func (s *stack) newMerchant(ctx context.Context, sb *pgSandbox, name string) (*merchant, error) {
	m := &merchant{sandbox: sb}
	var obj struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	if err := s.api(ctx, "POST", "/admin/v1/merchants", s.adminToken, map[string]any{"name": name}, &obj, 201); err != nil {
		return nil, err
	}
	m.id = obj.ID
	if err := s.api(ctx, "POST", "/admin/v1/merchants/"+m.id+"/keys", s.adminToken, map[string]any{"kind": "secret", "mode": "test"}, &obj, 201); err != nil {
		return nil, err
	}
	m.secret = obj.Key
	return m, nil
}

// newCustomer creates customer i of m.
func (s *stack) newCustomer(ctx context.Context, m *merchant, i int) (string, error) {
	var cus struct {
		ID string `json:"id"`
	}
	err := s.api(ctx, "POST", "/v1/customers", m.secret, map[string]any{
		"external_id": fmt.Sprintf("bench-%d", i), "name": "홍길동", "email": fmt.Sprintf("bench%d@example.com", i),
		"phone": "01012345678"}, &cus, 201)
	return cus.ID, err
}

// sandboxToken gets an access token straight from the sandbox, for the
// floor arm (which calls the PG as billingd would, without billingd).
func sandboxToken(ctx context.Context, m *merchant) (string, error) {
	b, _ := json.Marshal(map[string]string{"imp_key": m.impKey, "imp_secret": m.impSecret})
	req, err := http.NewRequestWithContext(ctx, "POST", m.sandbox.url+"/users/getToken", bytes.NewReader(b))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		Code     int `json:"code"`
		Response struct {
			AccessToken string `json:"access_token"`
		} `json:"response"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Code != 0 || out.Response.AccessToken == "" {
		return "", fmt.Errorf("sandbox getToken: code %d, %v", out.Code, err)
	}
	return out.Response.AccessToken, nil
}
