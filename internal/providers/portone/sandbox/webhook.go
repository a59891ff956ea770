package sandbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// notify sends a 2024-04-25 webhook {"type","timestamp","data"} to the
// request's noticeUrls, or the store's console URL when there are none,
// in the background (a reply never waits for it); Close waits. Each is
// signed the Standard Webhooks way with the store's webhook secret and
// the sandbox clock, and sent once: no retries.
func (s *Server) notify(a *account, urls []string, typ string, data map[string]string) {
	s.send(a, urls, typ, data, nil)
}

// send is notify; local, when given, also tracks the deliveries.
func (s *Server) send(a *account, urls []string, typ string, data map[string]string, local *sync.WaitGroup) {
	if len(urls) == 0 && a.WebhookURL != "" {
		urls = []string{a.WebhookURL}
	}
	if len(urls) == 0 {
		return
	}
	now := s.now()
	body, _ := json.Marshal(map[string]any{"type": typ, "timestamp": stamp(now), "data": data})
	id := randomID("msg_")
	ts := strconv.FormatInt(now.Unix(), 10)
	sig := sign(a.WebhookSecret, id, ts, body)
	for _, u := range urls {
		s.hookMu.Lock()
		if s.hookClosed || s.hooksOff {
			s.hookMu.Unlock()
			return
		}
		s.hooks.Add(1)
		if local != nil {
			local.Add(1)
		}
		s.hookMu.Unlock()
		go func() {
			defer s.hooks.Done()
			if local != nil {
				defer local.Done()
			}
			s.deliver(u, id, ts, sig, body)
		}()
	}
}

// sign returns the webhook-signature header, "" when the secret is not a
// usable key (the webhook then goes unsigned).
func sign(secret, id, ts string, body []byte) string {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || len(key) == 0 {
		return ""
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func (s *Server) deliver(url, id, ts, sig string, body []byte) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", ts)
	if sig != "" {
		req.Header.Set("webhook-signature", sig)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		s.delivered.Add(1)
	}
}

// waitHooks waits for the deliveries wg tracks, or until ctx ends.
func waitHooks(ctx context.Context, wg *sync.WaitGroup) {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
}
