package sandbox_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/providers/iamport/sandbox"
)

func TestBodiesAndTrailingSlash(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		path string
		body func(now int64) any
		want func(t *testing.T, r reply)
	}{
		{"AgainJSON", "/subscribe/payments/again", func(int64) any {
			return map[string]any{"customer_uid": "cus_b", "merchant_uid": "m1", "amount": 1000, "name": "n"}
		}, paidAmount(1000)},
		{"AgainForm", "/subscribe/payments/again/", func(int64) any {
			return url.Values{"customer_uid": {"cus_b"}, "merchant_uid": {"m1"}, "amount": {"2000"}}
		}, paidAmount(2000)},
		{"AgainFractionalAmount", "/subscribe/payments/again", func(int64) any {
			return map[string]any{"customer_uid": "cus_b", "merchant_uid": "m1", "amount": 1000.5}
		}, errorReply(400, -1)},
		{"AgainMissingAmount", "/subscribe/payments/again", func(int64) any {
			return url.Values{"customer_uid": {"cus_b"}, "merchant_uid": {"m1"}}
		}, errorReply(400, -1)},
		{"AgainUnknownCustomer", "/subscribe/payments/again", func(int64) any {
			return map[string]any{"customer_uid": "cus_none", "merchant_uid": "m1", "amount": 1000}
		}, errorReply(200, 1)},
		{"ScheduleJSON", "/subscribe/payments/schedule", func(now int64) any {
			return map[string]any{"customer_uid": "cus_b", "schedules": []map[string]any{
				{"merchant_uid": "s1", "schedule_at": now + 3600, "amount": 1000, "name": "n"},
				{"merchant_uid": "s2", "schedule_at": now + 7200, "amount": 2000, "name": "n"},
			}}
		}, scheduled(2)},
		{"ScheduleFormBrackets", "/subscribe/payments/schedule/", func(now int64) any {
			at := strings.TrimSpace(jsonNum(now + 3600))
			return url.Values{"customer_uid": {"cus_b"},
				"schedules[0][merchant_uid]": {"s1"}, "schedules[0][schedule_at]": {at}, "schedules[0][amount]": {"1000"},
				"schedules[1][merchant_uid]": {"s2"}, "schedules[1][schedule_at]": {at}, "schedules[1][amount]": {"1000"}}
		}, scheduled(2)},
		{"ScheduleUnknownCustomer", "/subscribe/payments/schedule", func(now int64) any {
			return map[string]any{"customer_uid": "cus_none", "schedules": []map[string]any{{"merchant_uid": "s1", "schedule_at": now + 60, "amount": 1000}}}
		}, errorReply(200, 1)},
		{"CancelUnknown", "/payments/cancel/", func(int64) any {
			return url.Values{"merchant_uid": {"nope"}}
		}, errorReply(200, 1)},
		{"IssueForWindowOnlyPG", "/subscribe/customers/cus_new", func(int64) any {
			return map[string]any{"pg": "payco", "card_number": "4242-4242-4242-4242", "expiry": "2030-12"}
		}, errorReply(200, 1)},
		{"IssueForm", "/subscribe/customers/cus_new/", func(int64) any {
			return url.Values{"pg": {"kcp"}, "card_number": {"4242-4242-4242-4242"}, "expiry": {"2030-12"}, "birth": {"900101"}}
		}, func(t *testing.T, r reply) {
			requireEnvelope(t, r, 200, 0)
			if !strings.Contains(string(r.resp), `"card_number":"424242******4242"`) {
				t.Fatalf("customer = %s", r.resp)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.windowKey(t, "cus_b")
			tok := b.token(t).AccessToken
			tc.want(t, call(t, "POST", b.url+tc.path, bearer(tok), tc.body(b.clock.Now().Unix())))
		})
	}
}

func jsonNum(n int64) string { b, _ := json.Marshal(n); return string(b) }

func paidAmount(amount int64) func(*testing.T, reply) {
	return func(t *testing.T, r reply) {
		t.Helper()
		requireEnvelope(t, r, 200, 0)
		var p map[string]any
		_ = json.Unmarshal(r.resp, &p)
		if p["status"] != "paid" || p["amount"] != float64(amount) || p["channel"] != "api" || p["customer_uid_usage"] != "payment" ||
			p["fail_reason"] != nil || p["failed_at"] != float64(0) {
			t.Fatalf("payment = %s", r.resp)
		}
		for _, k := range []string{"imp_uid", "merchant_uid", "cancel_amount", "currency", "cancel_history", "paid_at", "card_number", "sandbox"} {
			if _, ok := p[k]; !ok {
				t.Fatalf("payment lacks %q", k)
			}
		}
	}
}

func scheduled(n int) func(*testing.T, reply) {
	return func(t *testing.T, r reply) {
		t.Helper()
		requireEnvelope(t, r, 200, 0)
		var s []map[string]any
		_ = json.Unmarshal(r.resp, &s)
		if len(s) != n || s[0]["schedule_status"] != "scheduled" || s[0]["payment_status"] != nil || s[0]["imp_uid"] != nil {
			t.Fatalf("schedules = %s", r.resp)
		}
	}
}

func errorReply(status, code int) func(*testing.T, reply) {
	return func(t *testing.T, r reply) {
		t.Helper()
		requireEnvelope(t, r, status, code)
	}
}

func TestLookupsAndUnschedule(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.windowKey(t, "cus_l")
	h := bearer(b.token(t).AccessToken)
	r := call(t, "POST", b.url+"/subscribe/payments/again", h, map[string]any{"customer_uid": "cus_l", "merchant_uid": "m1", "amount": 1000})
	requireEnvelope(t, r, 200, 0)
	var p struct {
		ImpUID string `json:"imp_uid"`
	}
	_ = json.Unmarshal(r.resp, &p)

	requireEnvelope(t, call(t, "GET", b.url+"/payments/"+p.ImpUID+"?include_sandbox=true", h, nil), 200, 0)
	// Test-channel payments are hidden without include_sandbox (SPEC).
	requireEnvelope(t, call(t, "GET", b.url+"/payments/"+p.ImpUID, h, nil), 404, -1)
	requireEnvelope(t, call(t, "GET", b.url+"/payments/imp_000000000000?include_sandbox=true", h, nil), 404, -1)
	requireEnvelope(t, call(t, "GET", b.url+"/payments/find/m1/", h, nil), 200, 0)
	requireEnvelope(t, call(t, "GET", b.url+"/payments/find/m1/paid", h, nil), 200, 0)
	requireEnvelope(t, call(t, "GET", b.url+"/payments/find/m1/failed", h, nil), 404, -1)
	requireEnvelope(t, call(t, "GET", b.url+"/payments/find/nope", h, nil), 404, -1)

	now := b.clock.Now().Unix()
	requireEnvelope(t, call(t, "POST", b.url+"/subscribe/payments/schedule", h, map[string]any{"customer_uid": "cus_l",
		"schedules": []map[string]any{{"merchant_uid": "s1", "schedule_at": now + 60, "amount": 1000}, {"merchant_uid": "s2", "schedule_at": now + 60, "amount": 1000}}}), 200, 0)
	requireEnvelope(t, call(t, "GET", b.url+"/subscribe/payments/schedule/s1", h, nil), 200, 0)
	requireEnvelope(t, call(t, "GET", b.url+"/subscribe/payments/schedule/nope", h, nil), 404, 1)
	// merchant_uid[] form and a single JSON string are both accepted.
	requireEnvelope(t, call(t, "POST", b.url+"/subscribe/payments/unschedule", h, url.Values{"customer_uid": {"cus_l"}, "merchant_uid[]": {"s1"}}), 200, 0)
	requireEnvelope(t, call(t, "POST", b.url+"/subscribe/payments/unschedule/", h, map[string]any{"merchant_uid": "s2"}), 200, 0)
	requireEnvelope(t, call(t, "POST", b.url+"/subscribe/payments/unschedule", h, map[string]any{"customer_uid": "cus_l"}), 200, 1)
	requireEnvelope(t, call(t, "GET", b.url+"/no/such/route", h, nil), 404, -1)

	// Several keys at once, with bracket arrays: 200 all, 207 some, 404 none.
	requireEnvelope(t, call(t, "GET", b.url+"/subscribe/customers?customer_uid[]=cus_l", h, nil), 200, 0)
	requireEnvelope(t, call(t, "GET", b.url+"/subscribe/customers?customer_uid[]=cus_l&customer_uid[]=nope", h, nil), 207, 0)
	requireEnvelope(t, call(t, "GET", b.url+"/subscribe/customers?customer_uid[]=nope", h, nil), 404, 1)
}

func TestCustomerNotFoundModes(t *testing.T) {
	t.Parallel()
	for _, mode := range []int{404, 200} {
		b := setup(t)
		b.sb.SetCustomerNotFoundMode(mode)
		h := bearer(b.token(t).AccessToken)
		for _, method := range []string{"GET", "DELETE"} {
			r := call(t, method, b.url+"/subscribe/customers/cus_x", h, nil)
			requireEnvelope(t, r, mode, 1)
			if *r.msg != "요청하신 customer_uid(cus_x)로 등록된 정보를 찾을 수 없습니다." {
				t.Fatalf("message = %q", *r.msg)
			}
		}
	}
}

// The slow outcome (amount ending in 5) must not hang a client that gives
// up, and the payment stays paid.
func TestSlowReplyRecordsPaidAndRespectsCancellation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.windowKey(t, "cus_slow")
	tok := b.token(t).AccessToken
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", b.url+"/subscribe/payments/again",
		strings.NewReader(`{"customer_uid":"cus_slow","merchant_uid":"m_slow","amount":1005}`))
	req.Header.Set("Authorization", tok)
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("expected a timeout")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v", d)
	}
	ps := b.sb.PaymentsByOrder("m_slow")
	if len(ps) != 1 || ps[0].Status != "paid" {
		t.Fatalf("payments = %+v", ps)
	}
}

func TestRunDueSendsFormWebhooks(t *testing.T) {
	t.Parallel()
	got := make(chan url.Values, 4)
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		got <- r.PostForm
	}))
	t.Cleanup(rc.Close)
	clock := &testClock{t: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
	sb := sandbox.New(sandbox.Options{Now: clock.Now, WebhookFormat: "form"})
	sb.AddAccount(key, secret)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	t.Cleanup(sb.Close)
	b := &testBundle{sb: sb, url: srv.URL, clock: clock}
	b.windowKey(t, "cus_r")
	h := bearer(b.token(t).AccessToken)
	now := clock.Now().Unix()
	requireEnvelope(t, call(t, "POST", srv.URL+"/subscribe/payments/schedule", h, map[string]any{"customer_uid": "cus_r",
		"schedules": []map[string]any{{"merchant_uid": "s1", "schedule_at": now + 60, "amount": 1004, "notice_url": rc.URL}}}), 200, 0)
	sb.Advance(clock.Now().Add(time.Minute))
	runs, err := sb.RunDue(context.Background())
	if err != nil || len(runs) != 1 || runs[0].PaymentStatus != "failed" || runs[0].FailReason != "잔액부족" {
		t.Fatalf("runs = %+v, %v", runs, err)
	}
	select {
	case v := <-got:
		if v.Get("merchant_uid") != "s1" || v.Get("status") != "failed" || !strings.HasPrefix(v.Get("imp_uid"), "imps_") {
			t.Fatalf("webhook = %v", v)
		}
	default:
		t.Fatal("RunDue returned before the webhook was delivered")
	}
}
