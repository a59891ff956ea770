package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Webhook delivery (reference §9): v2 posts JSON and wants HTTP 200 with
// {"success": true}; v1 posts form-urlencoded (or JSON when asked) and
// wants the plain text "OK". Anything else is retried with back-off, up to
// 10 attempts, by a fixed pool of workers.
const (
	hookWorkers      = 4
	hookAttempts     = 10
	hookFirstBackoff = 200 * time.Millisecond
	hookMaxBackoff   = 30 * time.Second
)

type delivery struct {
	url, contentType string
	body             []byte
	v1               bool
	attempt          int
}

type hookQueue struct {
	client    *http.Client
	ctx       context.Context
	cancel    context.CancelFunc
	delivered *atomic.Int64

	mu      sync.Mutex
	cond    *sync.Cond
	items   []delivery
	timers  map[*time.Timer]struct{}
	closed  bool
	started bool
	wg      sync.WaitGroup
}

func newHookQueue(c *http.Client) *hookQueue {
	ctx, cancel := context.WithCancel(context.Background())
	q := &hookQueue{client: c, ctx: ctx, cancel: cancel, timers: map[*time.Timer]struct{}{}}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// push queues a delivery; workers start with the first one.
func (q *hookQueue) push(d delivery) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	if !q.started {
		q.started = true
		for range hookWorkers {
			q.wg.Add(1)
			go q.work()
		}
	}
	q.items = append(q.items, d)
	q.cond.Signal()
}

func (q *hookQueue) work() {
	defer q.wg.Done()
	for {
		q.mu.Lock()
		for len(q.items) == 0 && !q.closed {
			q.cond.Wait()
		}
		if q.closed {
			q.mu.Unlock()
			return
		}
		d := q.items[0]
		q.items = q.items[1:]
		q.mu.Unlock()
		q.attempt(d)
	}
}

// attempt sends once and schedules a retry on failure.
func (q *hookQueue) attempt(d delivery) {
	if q.send(d) {
		q.delivered.Add(1)
		return
	}
	d.attempt++
	if d.attempt >= hookAttempts {
		return
	}
	delay := min(hookFirstBackoff<<(d.attempt-1), hookMaxBackoff)
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	var t *time.Timer
	t = time.AfterFunc(delay, func() {
		q.mu.Lock()
		delete(q.timers, t)
		q.mu.Unlock()
		q.push(d)
	})
	q.timers[t] = struct{}{}
}

func (q *hookQueue) send(d delivery) bool {
	req, err := http.NewRequestWithContext(q.ctx, http.MethodPost, d.url, bytes.NewReader(d.body))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", d.contentType)
	req.Header.Set("User-Agent", "bootpay-sandbox-webhook")
	res, err := q.client.Do(req)
	if err != nil {
		return false
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	if res.StatusCode != http.StatusOK {
		return false
	}
	if d.v1 {
		return strings.TrimSpace(string(b)) == "OK"
	}
	var ack struct {
		Success bool `json:"success"`
	}
	return json.Unmarshal(b, &ack) == nil && ack.Success
}

func (q *hookQueue) close() {
	q.mu.Lock()
	q.closed = true
	for t := range q.timers {
		t.Stop()
	}
	q.items = nil
	q.mu.Unlock()
	q.cancel()
	q.cond.Broadcast()
	q.wg.Wait()
}

// notify queues the webhook for a receipt that asked for one.
func (s *Server) notify(rc receipt, kind string) {
	if rc.feedbackURL == "" || s.faults.hooksOff.Load() {
		return
	}
	s.hooks.push(s.delivery(rc, kind))
}

// deliverNow makes the first attempt synchronously (RunDue), leaving
// retries to the queue.
func (s *Server) deliverNow(ctx context.Context, rc receipt, kind string) {
	if rc.feedbackURL == "" || ctx.Err() != nil || s.faults.hooksOff.Load() {
		return
	}
	s.hooks.mu.Lock()
	closed := s.hooks.closed
	s.hooks.mu.Unlock()
	if !closed {
		s.hooks.attempt(s.delivery(rc, kind))
	}
}

// delivery renders a notification in the shape of the API generation that
// created the payment.
func (s *Server) delivery(rc receipt, kind string) delivery {
	if rc.version == 2 {
		body := rc.v2()
		body.WebhookType = kind
		if !rc.feedbackForm {
			b, _ := json.Marshal(body)
			return delivery{url: rc.feedbackURL, contentType: "application/json", body: b}
		}
		return delivery{url: rc.feedbackURL, contentType: "application/x-www-form-urlencoded", body: []byte(formOf(body, nil))}
	}
	if !rc.feedbackForm {
		b, _ := json.Marshal(v1Hook{v1ReceiptJSON: rc.v1(), PaymentGroup: "card", PaymentGroupName: "신용카드"})
		return delivery{url: rc.feedbackURL, contentType: "application/json", body: b, v1: true}
	}
	// v1's form notification echoes the project's keys so the merchant can
	// check them (gitbook webhook/server.md); the sandbox does the same.
	s.mu.RLock()
	a := s.accounts[rc.appID]
	s.mu.RUnlock()
	extra := url.Values{"payment_group": {"card"}, "payment_group_name": {"신용카드"}, "retry_count": {"0"}}
	if a != nil {
		extra.Set("application_id", a.appID)
		extra.Set("private_key", a.privateKey)
	}
	return delivery{url: rc.feedbackURL, contentType: "application/x-www-form-urlencoded", body: []byte(formOf(rc.v1(), extra)), v1: true}
}

type v1Hook struct {
	v1ReceiptJSON
	PaymentGroup     string `json:"payment_group"`
	PaymentGroupName string `json:"payment_group_name"`
	RetryCount       int    `json:"retry_count"`
}

// formOf flattens a JSON-shaped value into form fields, nested objects as
// parent[child], the way Rails-era Bootpay encodes them.
func formOf(v any, extra url.Values) string {
	b, _ := json.Marshal(v)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	_ = dec.Decode(&m)
	out := url.Values{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch t := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				name := k
				if prefix != "" {
					name = prefix + "[" + k + "]"
				}
				walk(name, t[k])
			}
		case nil:
			out.Set(prefix, "")
		default:
			out.Set(prefix, fmt.Sprint(t))
		}
	}
	walk("", m)
	for k, vs := range extra {
		out[k] = vs
	}
	return out.Encode()
}
