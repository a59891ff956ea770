package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestConsoleFindAndRefund is the "done when": an operator who never
// read the API finds the walkthrough's payment, refunds half of it, and sees
// the refund, its webhook delivery and the audit rows.
func TestConsoleFindAndRefund(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := newTab(t)
	b.login(t, ctx, "alice")
	screenshot(t, ctx, "console-home")

	click(t, ctx, `nav a[href^="/console/payments"]`, `main[data-page=payments]`)
	run(t, ctx, chromedp.SetValue(chromedp.CSS("#q"), "12월"))
	click(t, ctx, "#search", `main[data-page=payments] table.payments`)
	payID := b.payment["id"].(string)
	requireText(t, ctx, payID, "₩9,900", "paid")
	screenshot(t, ctx, "console-payments")

	click(t, ctx, `a[href^="/console/payments/`+payID+`"]`, `main[data-page=payment]`)
	requireText(t, ctx, "payment.paid", "What to quote to the PG", b.payment["provider_payment_id"].(string), "KST")
	run(t, ctx, chromedp.SetValue(chromedp.CSS("#refund-amount"), "4950"), chromedp.SetValue(chromedp.CSS("#refund-reason"), "half returned"))
	click(t, ctx, "#refund", `main[data-page=confirm]`)
	requireText(t, ctx, "Refund ₩4,950 of payment "+payID)
	screenshot(t, ctx, "console-confirm-refund")
	click(t, ctx, "#confirm", `main[data-page=payment] #notice`)
	requireText(t, ctx, "of ₩4,950: succeeded", "partially_refunded", "half returned", "refund.succeeded")
	if got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#payment-refunded"))); got != "₩4,950" {
		t.Fatalf("refunded shows %q", got)
	}

	// The refund's webhook is delivered by the job queue: reload until the
	// timeline shows it.
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(text(t, ctx), "refund.succeeded") || countDelivered(t, ctx) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("the refund's webhook delivery never showed as delivered:\n%s", text(t, ctx))
		}
		time.Sleep(300 * time.Millisecond)
		reload(t, ctx, `main[data-page=payment]`)
	}
	screenshot(t, ctx, "console-payment")

	click(t, ctx, `nav a[href^="/console/audit"]`, `main[data-page=audit]`)
	requireText(t, ctx, "console: alice", "payment.refunded", "refund.succeeded", "console.viewed", "api_key: key_")
	if rows := b.auditActions(t, "action=console.login&actor_id=alice"); len(rows) != 1 {
		t.Fatalf("login audit rows: %v", rows)
	}
	screenshot(t, ctx, "console-audit")

	rows := b.auditActions(t, "object_id="+payID+"&action=payment.refunded")
	if len(rows) != 1 || rows[0]["actor_type"] != "console" || rows[0]["actor_id"] != "alice" || rows[0]["request_id"] == "" || rows[0]["source_ip"] != "127.0.0.1" {
		t.Fatalf("audit rows of the refund: %v", rows)
	}
}

// countDelivered counts webhook deliveries the page shows as delivered.
func countDelivered(t *testing.T, ctx context.Context) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(".delivery .st-delivered").length`))
	if err != nil {
		t.Fatal(err)
	}
	return n
}
