package main

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// balancer is the load balancer an operator puts in front of the
// replicas, as the PG sees it: round robin, and a request that could not
// reach a replica (refused: it is down) goes to the next one. A PG webhook
// is also sent again when its replica died mid-request: billingd stores
// each notification once per dedupe key, so a repeat is harmless.
type balancer struct {
	srv      *httptest.Server
	backends []string
	next     atomic.Uint64
	// lostWebhooks counts PG webhooks that reached no replica.
	lostWebhooks atomic.Int64
	client       *http.Client
}

func newBalancer(t *testing.T, backends []string) *balancer {
	b := &balancer{backends: backends, client: &http.Client{Timeout: 30 * time.Second}}
	b.srv = httptest.NewServer(b)
	t.Cleanup(b.srv.Close)
	return b
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	webhook := strings.HasPrefix(r.URL.Path, "/webhooks/")
	var lastErr error
	for try := 0; try < 20; try++ {
		base := b.backends[int(b.next.Add(1))%len(b.backends)]
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, base+r.URL.RequestURI(), bytes.NewReader(body))
		req.Header = r.Header.Clone()
		resp, err := b.client.Do(req)
		if err != nil {
			lastErr = err
			if errors.Is(err, syscall.ECONNREFUSED) || webhook {
				time.Sleep(100 * time.Millisecond)
				continue
			}
			break
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
		return
	}
	if webhook {
		b.lostWebhooks.Add(1)
	}
	http.Error(w, "no replica answered: "+lastErr.Error(), http.StatusBadGateway)
}
