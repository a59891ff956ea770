package main

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
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
	// lostWebhooks counts PG webhooks that no replica accepted;
	// resentWebhooks those sent again after a replica answered 429 or 5xx.
	lostWebhooks, resentWebhooks atomic.Int64
	shedStatuses                 sync.Map // status code → *atomic.Int64
	client                       *http.Client
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
		if webhook && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500) && try < 19 {
			// A replica shedding load under the burst: the PG sends once,
			// so the edge sends it again.
			resp.Body.Close()
			b.resentWebhooks.Add(1)
			n, _ := b.shedStatuses.LoadOrStore(resp.StatusCode, new(atomic.Int64))
			n.(*atomic.Int64).Add(1)
			lastErr = errors.New(resp.Status)
			time.Sleep(200 * time.Millisecond)
			continue
		}
		defer resp.Body.Close()
		if webhook && resp.StatusCode >= 300 {
			b.lostWebhooks.Add(1)
		}
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

// shed lists how replicas answered the webhooks sent again.
func (b *balancer) shed() map[int]int64 {
	out := map[int]int64{}
	b.shedStatuses.Range(func(k, v any) bool {
		out[k.(int)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}
