package console_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestConsoleActions performs every action through its confirmation page
// and checks what changed and the audit rows it wrote.
func TestConsoleActions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := newTab(t)
	b.login(t, ctx, "grace")
	scope := "?merchant=" + b.merchantID + "&mode=test"
	confirm := func(next string) {
		t.Helper()
		waitFor(t, ctx, `main[data-page=confirm]`, true)
		click(t, ctx, "#confirm", next)
	}

	t.Run("Subscription", func(t *testing.T) {
		sub := b.call(t, b.secret, "POST", "/v1/subscriptions", "sub-a", map[string]any{"customer_id": b.customer, "billing_key_id": b.key,
			"amount": 5000, "order_name": "basic", "interval": "month"}, http.StatusCreated)
		id := sub["id"].(string)
		b.open(t, ctx, "/console/subscriptions"+scope, `main[data-page=subscriptions]`)
		click(t, ctx, `#sub-`+id+` a[href*="pause_subscription"]`, `main[data-page=confirm]`)
		requireText(t, ctx, "Pause subscription "+id)
		confirm(`main[data-page=subscriptions] #notice`)
		requireText(t, ctx, id+" is paused")
		// Resume waits (409) while the pause's revocation at the PG is
		// unconfirmed: the console shows the API's refusal, and a retry
		// goes through once the job has confirmed it.
		deadline := time.Now().Add(20 * time.Second)
		for {
			b.open(t, ctx, "/console/subscriptions"+scope, `main[data-page=subscriptions]`)
			click(t, ctx, `#sub-`+id+` a[href*="resume_subscription"]`, `main[data-page=confirm]`)
			click(t, ctx, "#confirm", `main[data-page=subscriptions], main[data-page=error]`)
			if strings.Contains(text(t, ctx), id+" is active") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("resume never went through:\n%s", text(t, ctx))
			}
			time.Sleep(500 * time.Millisecond)
		}
		click(t, ctx, `#sub-`+id+` a[href*="cancel_subscription"]`, `main[data-page=confirm]`)
		confirm(`main[data-page=subscriptions] #notice`)
		requireText(t, ctx, id+" is canceled")
		got := b.call(t, b.secret, "GET", "/v1/subscriptions/"+id, "", nil, http.StatusOK)
		if got["status"] != "canceled" {
			t.Fatalf("subscription %v", got)
		}
		for _, action := range []string{"subscription.paused", "subscription.resumed", "subscription.canceled"} {
			if rows := b.auditActions(t, "actor_id=grace&object_id="+id+"&action="+action); len(rows) != 1 {
				t.Errorf("%s audit rows: %v", action, rows)
			}
		}
	})

	t.Run("ReconcileUnknown", func(t *testing.T) {
		// Amounts ending in 6 lose the PG's reply: the payment is unknown.
		p := b.call(t, b.secret, "POST", "/v1/payments", "pay-unknown", map[string]any{"billing_key_id": b.key, "amount": 5006, "order_name": "lost reply"}, http.StatusAccepted)
		id := p["id"].(string)
		b.open(t, ctx, "/console/payments/"+id+scope, `main[data-page=payment]`)
		requireText(t, ctx, "unknown")
		click(t, ctx, "#reconcile", `main[data-page=confirm]`)
		confirm(`main[data-page=payment] #notice`)
		requireText(t, ctx, "Status: paid")
		// The PG's own notification may have settled it first; the
		// operator's request is in the log either way.
		if rows := b.auditActions(t, "actor_id=grace&object_id="+id+"&action=console.reconcile"); len(rows) != 1 {
			t.Errorf("reconcile audit rows: %v; all: %v", rows, b.auditActions(t, "object_id="+id))
		}
	})

	t.Run("ResendWebhook", func(t *testing.T) {
		payID := b.payment["id"].(string)
		deadline := time.Now().Add(20 * time.Second)
		for b.received.Load() == 0 || !strings.Contains(text(t, ctx), "delivered") {
			if time.Now().After(deadline) {
				t.Fatal("the first delivery never arrived")
			}
			time.Sleep(200 * time.Millisecond)
			b.open(t, ctx, "/console/payments/"+payID+scope, `main[data-page=payment]`)
		}
		before := b.received.Load()
		click(t, ctx, `.delivery a[href*="resend_webhook"]`, `main[data-page=confirm]`)
		confirm(`main[data-page=webhooks] #notice`)
		requireText(t, ctx, "queued again for 1 endpoint(s)")
		for b.received.Load() == before {
			if time.Now().After(deadline.Add(10 * time.Second)) {
				t.Fatal("the resent webhook never arrived")
			}
			time.Sleep(100 * time.Millisecond)
		}
		if rows := b.auditActions(t, "actor_id=grace&action=event.resent"); len(rows) != 1 || len(b.auditActions(t, "actor_id=grace&action=console.resend_webhook")) != 1 {
			t.Errorf("resend audit rows: %v", rows)
		}
	})

	t.Run("EnableEndpoint", func(t *testing.T) {
		ep := b.call(t, b.secret, "POST", "/v1/webhook_endpoints", "", map[string]any{"url": "https://example.com/off", "enabled_events": []string{"*"}}, http.StatusCreated)
		id := ep["id"].(string)
		b.call(t, b.secret, "PATCH", "/v1/webhook_endpoints/"+id, "", map[string]any{"status": "disabled"}, http.StatusOK)
		b.open(t, ctx, "/console/"+scope, `main[data-page=home]`)
		requireText(t, ctx, id, "disabled by the merchant")
		b.open(t, ctx, "/console/webhooks"+scope, `main[data-page=webhooks]`)
		click(t, ctx, `#ep-`+id+` a[href*="enable_endpoint"]`, `main[data-page=confirm]`)
		confirm(`main[data-page=webhooks] #notice`)
		requireText(t, ctx, id+" is enabled")
		if got := b.call(t, b.secret, "GET", "/v1/webhook_endpoints/"+id, "", nil, http.StatusOK); got["status"] != "enabled" {
			t.Fatalf("endpoint %v", got)
		}
		if rows := b.auditActions(t, "actor_id=grace&object_id="+id+"&action=webhook_endpoint.updated"); len(rows) != 1 {
			t.Errorf("enable audit rows: %v", rows)
		}
	})

	t.Run("RevokeKey", func(t *testing.T) {
		k := b.call(t, adminToken, "POST", "/admin/v1/merchants/"+b.merchantID+"/keys", "", map[string]any{"kind": "secret", "mode": "test"}, http.StatusCreated)
		id, secret := k["id"].(string), k["key"].(string)
		b.call(t, secret, "GET", "/v1/payments", "", nil, http.StatusOK)
		b.open(t, ctx, "/console/merchants"+scope, `main[data-page=merchants]`)
		click(t, ctx, `#key-`+id+` a[href*="revoke_key"]`, `main[data-page=confirm]`)
		confirm(`main[data-page=merchants] #notice`)
		requireText(t, ctx, id)
		b.call(t, secret, "GET", "/v1/payments", "", nil, http.StatusUnauthorized)
		if rows := b.auditActions(t, "actor_id=grace&object_id="+id+"&action=api_key.revoked"); len(rows) != 1 {
			t.Errorf("revoke audit rows: %v", rows)
		}
	})

	t.Run("RefundSubmittedTwiceRunsOnce", func(t *testing.T) {
		payID := b.payment["id"].(string)
		b.open(t, ctx, "/console/actions/refund"+scope+"&payment="+payID+"&amount=1000&reason=twice", `main[data-page=confirm]`)
		// The same form posted twice, as a double click or a resubmitted
		// page would: one idempotency key, one refund.
		statuses, err := chromedp.Run(ctx, chromedp.Evaluate[[]any](`(async () => {
			const f = document.getElementById("confirm-form");
			const post = () => fetch(f.action, {method: "POST", body: new URLSearchParams(new FormData(f))}).then(r => r.status);
			const first = await post();
			return [first, await post()];
		})()`, chromedp.EvalAwaitPromise))
		if err != nil || len(statuses) != 2 || statuses[0] != float64(200) || statuses[1] != float64(200) {
			t.Fatalf("posts answered %v (err=%v)", statuses, err)
		}
		p := b.call(t, b.secret, "GET", "/v1/payments/"+payID, "", nil, http.StatusOK)
		if p["refunded_amount"] != float64(1000) || len(p["refunds"].([]any)) != 1 {
			t.Fatalf("after two posts: refunded %v, refunds %v", p["refunded_amount"], p["refunds"])
		}
	})
}
