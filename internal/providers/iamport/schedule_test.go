package iamport_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/providers"
	"github.com/billingd/billingd/internal/providers/iamport"
)

// notice is one webhook as a receiver saw it.
type notice struct {
	contentType                 string
	impUID, merchantUID, status string
}

// receiver is an httptest server that records Iamport webhooks in either
// format.
type receiver struct {
	url string
	mu  sync.Mutex
	got []notice
}

func newReceiver(t testing.TB) *receiver {
	t.Helper()
	rc := &receiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		raw, _ := io.ReadAll(r.Body)
		n := notice{contentType: ct}
		switch ct {
		case "application/json":
			var body map[string]string
			if err := json.Unmarshal(raw, &body); err != nil || len(body) != 3 {
				t.Errorf("webhook JSON body %s: %v", raw, err)
			}
			n.impUID, n.merchantUID, n.status = body["imp_uid"], body["merchant_uid"], body["status"]
		case "application/x-www-form-urlencoded":
			v, err := url.ParseQuery(string(raw))
			if err != nil || len(v) != 3 {
				t.Errorf("webhook form body %s: %v", raw, err)
			}
			n.impUID, n.merchantUID, n.status = v.Get("imp_uid"), v.Get("merchant_uid"), v.Get("status")
		default:
			t.Errorf("webhook Content-Type %q", ct)
		}
		rc.mu.Lock()
		rc.got = append(rc.got, n)
		rc.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	rc.url = srv.URL + "/webhooks/iamport/acct_1"
	return rc
}

func (rc *receiver) notices() []notice {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := append([]notice(nil), rc.got...)
	sort.Slice(out, func(i, j int) bool { return out[i].merchantUID < out[j].merchantUID })
	return out
}

func TestScheduleRunsAndNotifies(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"json", "form"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			b := setupWith(t, bundleOptions{webhookFormat: format})
			rc := newReceiver(t)
			b.mustWindowKey(t, "cus_sched")
			ctx := context.Background()
			at := b.clock.Now().Add(time.Hour)
			got, err := b.client.Schedule(ctx, iamport.ScheduleRequest{CustomerUID: "cus_sched", NoticeURL: rc.url, Items: []iamport.ScheduleItem{
				{OrderID: "pay_s_ok", At: at, Amount: 9900, Name: "12월 구독", CustomData: `{"period":"2026-12"}`},
				{OrderID: "pay_s_fail", At: at, Amount: 9904, Name: "12월 구독"},
			}})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || got[0].Status != iamport.ScheduleScheduled || !got[0].At.Equal(at) || got[0].Amount != 9900 ||
				got[0].PaymentStatus != "" || got[0].ProviderID != "" || !got[0].ExecutedAt.IsZero() {
				t.Fatalf("scheduled = %+v", got)
			}
			if runs, _ := b.sb.RunDue(ctx); len(runs) != 0 {
				t.Fatalf("ran %d schedules before they were due", len(runs))
			}
			b.clock.Add(2 * time.Hour) // the adapter's token expires too: it must refresh
			runs, err := b.sb.RunDue(ctx)
			if err != nil || len(runs) != 2 {
				t.Fatalf("RunDue = %d runs, %v", len(runs), err)
			}
			ns := rc.notices()
			if len(ns) != 2 {
				t.Fatalf("webhooks = %+v, want 2", ns)
			}
			wantCT := map[string]string{"json": "application/json", "form": "application/x-www-form-urlencoded"}[format]
			want := map[string]providers.PaymentStatus{"pay_s_ok": providers.StatusPaid, "pay_s_fail": providers.StatusFailed}
			for _, n := range ns {
				if n.contentType != wantCT || string(want[n.merchantUID]) != n.status {
					t.Fatalf("webhook = %+v", n)
				}
				// Webhooks are hints: billingd re-fetches the payment.
				p, err := b.client.GetPayment(ctx, n.impUID)
				if err != nil || p.Status != want[n.merchantUID] || p.OrderID != n.merchantUID || p.BillingKey != "cus_sched" {
					t.Fatalf("GetPayment(%s) = %+v, %v", n.impUID, p, err)
				}
				s, err := b.client.GetSchedule(ctx, n.merchantUID)
				if err != nil || s.Status != iamport.ScheduleExecuted || s.ProviderID != n.impUID || s.PaymentStatus != want[n.merchantUID] ||
					s.ExecutedAt.IsZero() {
					t.Fatalf("GetSchedule(%s) = %+v, %v", n.merchantUID, s, err)
				}
			}
			if p, _ := b.client.FindPayment(ctx, "pay_s_ok"); p.Amount != 9900 {
				t.Fatalf("scheduled payment amount = %d", p.Amount)
			}
			// A schedule runs once.
			if runs, _ := b.sb.RunDue(ctx); len(runs) != 0 || len(rc.notices()) != 2 {
				t.Fatalf("second RunDue ran %d, webhooks %d", len(runs), len(rc.notices()))
			}
			if ps := b.sb.PaymentsByOrder("pay_s_ok"); len(ps) != 1 || ps[0].CustomerUIDUsage != "payment.scheduled" {
				t.Fatalf("sandbox payments = %+v", ps)
			}
		})
	}
}

func TestUnschedule(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.mustWindowKey(t, "cus_un")
	ctx := context.Background()
	at := b.clock.Now().Add(24 * time.Hour)
	items := []iamport.ScheduleItem{
		{OrderID: "pay_u1", At: at, Amount: 1000},
		{OrderID: "pay_u2", At: at.Add(time.Hour), Amount: 1000},
		{OrderID: "pay_u3", At: at.Add(2 * time.Hour), Amount: 1000},
	}
	if _, err := b.client.Schedule(ctx, iamport.ScheduleRequest{CustomerUID: "cus_un", Items: items}); err != nil {
		t.Fatal(err)
	}
	revoked, err := b.client.Unschedule(ctx, "cus_un", []string{"pay_u2"})
	if err != nil || len(revoked) != 1 || revoked[0].OrderID != "pay_u2" || revoked[0].Status != iamport.ScheduleRevoked ||
		revoked[0].RevokedAt.IsZero() {
		t.Fatalf("Unschedule one = %+v, %v", revoked, err)
	}
	revoked, err = b.client.Unschedule(ctx, "cus_un", nil)
	if err != nil || len(revoked) != 2 || revoked[0].OrderID != "pay_u1" || revoked[1].OrderID != "pay_u3" {
		t.Fatalf("Unschedule all = %+v, %v", revoked, err)
	}
	_, err = b.client.Unschedule(ctx, "cus_un", nil)
	if pe := requireKind(t, err, providers.ErrRejected); pe.PGCode != "1" {
		t.Fatalf("nothing to revoke: %+v", pe)
	}
	b.clock.Add(48 * time.Hour)
	if runs, _ := b.sb.RunDue(ctx); len(runs) != 0 {
		t.Fatalf("revoked schedules ran: %+v", runs)
	}
	if s, err := b.client.GetSchedule(ctx, "pay_u2"); err != nil || s.Status != iamport.ScheduleRevoked {
		t.Fatalf("GetSchedule = %+v, %v", s, err)
	}
	_, err = b.client.GetSchedule(ctx, "pay_unknown")
	requireKind(t, err, providers.ErrNotFound)
}

func TestScheduleRefusals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		req   func(now time.Time) iamport.ScheduleRequest
		local bool // refused before any HTTP call
	}{
		{"UnknownCustomer", func(now time.Time) iamport.ScheduleRequest {
			return iamport.ScheduleRequest{CustomerUID: "cus_nobody", Items: []iamport.ScheduleItem{{OrderID: "o1", At: now.Add(time.Hour), Amount: 1000}}}
		}, false},
		{"InThePast", func(now time.Time) iamport.ScheduleRequest {
			return iamport.ScheduleRequest{CustomerUID: "cus_ref", Items: []iamport.ScheduleItem{{OrderID: "o1", At: now.Add(-time.Hour), Amount: 1000}}}
		}, false},
		{"OrderAlreadyPaid", func(now time.Time) iamport.ScheduleRequest {
			return iamport.ScheduleRequest{CustomerUID: "cus_ref", Items: []iamport.ScheduleItem{{OrderID: "pay_paid", At: now.Add(time.Hour), Amount: 1000}}}
		}, false},
		{"DuplicateInRequest", func(now time.Time) iamport.ScheduleRequest {
			it := iamport.ScheduleItem{OrderID: "o1", At: now.Add(time.Hour), Amount: 1000}
			return iamport.ScheduleRequest{CustomerUID: "cus_ref", Items: []iamport.ScheduleItem{it, it}}
		}, false},
		{"NoItems", func(time.Time) iamport.ScheduleRequest { return iamport.ScheduleRequest{CustomerUID: "cus_ref"} }, true},
		{"NoTime", func(time.Time) iamport.ScheduleRequest {
			return iamport.ScheduleRequest{CustomerUID: "cus_ref", Items: []iamport.ScheduleItem{{OrderID: "o1", Amount: 1000}}}
		}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.mustWindowKey(t, "cus_ref")
			ctx := context.Background()
			if _, err := b.client.Charge(ctx, providers.ChargeRequest{OrderID: "pay_paid", BillingKey: "cus_ref", Amount: 1000}); err != nil {
				t.Fatal(err)
			}
			before := b.sb.Calls("POST /subscribe/payments/schedule")
			_, err := b.client.Schedule(ctx, tc.req(b.clock.Now()))
			requireKind(t, err, providers.ErrRejected)
			if sent := b.sb.Calls("POST /subscribe/payments/schedule") - before; (sent == 0) != tc.local {
				t.Fatalf("schedule calls = %d, local refusal %v", sent, tc.local)
			}
			if _, err := b.client.GetSchedule(ctx, "o1"); !errors.Is(err, providers.ErrNotFound) {
				t.Fatalf("a refused request left a schedule: %v", err)
			}
		})
	}
}

// Paid charges notify their notice_url; ordinary declines send nothing.
func TestChargeWebhooks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rc := newReceiver(t)
	b.mustWindowKey(t, "cus_hook")
	ctx := context.Background()
	paid, err := b.client.Charge(ctx, providers.ChargeRequest{OrderID: "pay_h1", BillingKey: "cus_hook", Amount: 1000, NoticeURL: rc.url})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.client.Charge(ctx, providers.ChargeRequest{OrderID: "pay_h2", BillingKey: "cus_hook", Amount: 1004, NoticeURL: rc.url})
	requireKind(t, err, providers.ErrDeclined)
	b.sb.Close() // waits for webhooks in flight
	ns := rc.notices()
	if len(ns) != 1 || ns[0] != (notice{"application/json", paid.ProviderID, "pay_h1", "paid"}) {
		t.Fatalf("webhooks = %+v", ns)
	}
}
