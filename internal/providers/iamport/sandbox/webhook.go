package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// webhook is one V1 notification: {imp_uid, merchant_uid, status}, no
// amount, no customer_uid and no signature (WHDOC). The receiver must look
// the payment up.
type webhook struct {
	url                         string
	impUID, merchantUID, status string
}

type webhookBody struct {
	ImpUID      string `json:"imp_uid"`
	MerchantUID string `json:"merchant_uid"`
	Status      string `json:"status"`
}

// notifyAsync sends h in the background (an API reply never waits for a
// webhook); Close waits for it. Nothing is sent after Close.
func (s *Server) notifyAsync(h webhook) {
	if h.url == "" {
		return
	}
	s.hookMu.Lock()
	if s.hookClosed || s.hooksOff {
		s.hookMu.Unlock()
		return
	}
	s.hooks.Add(1)
	s.hookMu.Unlock()
	go func() {
		defer s.hooks.Done()
		s.deliver(context.Background(), h)
	}()
}

// deliver posts h once, bounded by Options.WebhookTimeout, in the configured
// format. The outcome is ignored: Iamport sends once by default.
func (s *Server) deliver(ctx context.Context, h webhook) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.WebhookTimeout)
	defer cancel()
	var body io.Reader
	var ctype string
	if s.opts.WebhookFormat == "form" {
		v := url.Values{"imp_uid": {h.impUID}, "merchant_uid": {h.merchantUID}, "status": {h.status}}
		body, ctype = strings.NewReader(v.Encode()), "application/x-www-form-urlencoded"
	} else {
		b, _ := json.Marshal(webhookBody{ImpUID: h.impUID, MerchantUID: h.merchantUID, Status: h.status})
		body, ctype = bytes.NewReader(b), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, body)
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("User-Agent", "iamport-sandbox-webhook")
	resp, err := s.hc.Do(req)
	if err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}
