package console_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"
)

// TestConsoleViews walks every view at laptop width and one at phone width,
// and checks that secrets stay masked and each view is in the audit log.
func TestConsoleViews(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sub := b.call(t, b.secret, "POST", "/v1/subscriptions", "sub-1", map[string]any{"customer_id": b.customer, "billing_key_id": b.key,
		"amount": 12000, "order_name": "프리미엄 월간", "interval": "month"}, http.StatusCreated)
	ctx := newTab(t)
	b.login(t, ctx, "bob")
	requireText(t, ctx, "Unknown outcomes", "Subscriptions past due or unpaid", "Disabled webhook endpoints", "Failing webhook deliveries", "PG accounts with failing calls")

	click(t, ctx, `nav a[href^="/console/customers"]`, `main[data-page=customers]`)
	requireText(t, ctx, b.customer, "user-1")
	click(t, ctx, `a[href^="/console/customers/`+b.customer+`"]`, `main[data-page=customer]`)
	requireText(t, ctx, "Billing keys", b.key, "active", "*", "Identity verifications", b.payment["id"].(string))
	page := text(t, ctx)
	if strings.Contains(page, "홍길동") || strings.Contains(page, "hong@example.com") {
		t.Fatalf("the customer page shows identity data:\n%s", page)
	}
	screenshot(t, ctx, "console-customer")

	subID := sub["id"].(string)
	click(t, ctx, `nav a[href^="/console/subscriptions"]`, `main[data-page=subscriptions]`)
	requireText(t, ctx, subID, "active", "₩12,000", "1 month", "#0")
	screenshot(t, ctx, "console-subscriptions")

	click(t, ctx, `nav a[href^="/console/webhooks"]`, `main[data-page=webhooks]`)
	requireText(t, ctx, "/hooks", "enabled", "payment.paid", b.payment["id"].(string), "delivered")
	click(t, ctx, `a[href*="failing=1"]`, `main[data-page=webhooks]`)
	screenshot(t, ctx, "console-webhooks")

	click(t, ctx, `nav a[href^="/console/merchants"]`, `main[data-page=merchants]`)
	requireText(t, ctx, "Console Shop", "…"+b.secret[len(b.secret)-4:], "imp_key=****", "/webhooks/iamport/")
	page = text(t, ctx)
	if strings.Contains(page, b.secret) || strings.Contains(page, "imp-secret-"+b.impKey) || strings.Contains(page, b.impKey+" ") {
		t.Fatalf("the merchants page shows a secret:\n%s", page)
	}
	screenshot(t, ctx, "console-merchants")

	click(t, ctx, `nav a[href^="/console/audit"]`, `main[data-page=audit]`)
	run(t, ctx, chromedp.SetValue(chromedp.CSS(`input[name=action]`), "console.viewed"))
	click(t, ctx, `form.filters button`, `#audit-events`)
	for _, view := range []string{"view=home", "view=customers", "view=customer", "view=subscriptions", "view=webhooks", "view=merchants"} {
		requireText(t, ctx, view)
	}

	// A phone: the payment page still fits and works.
	phone := newTab(t)
	b.login(t, phone, "bob")
	run(t, phone, chromedp.Emulate(device.IPhone13))
	b.open(t, phone, "/console/payments/"+b.payment["id"].(string)+"?merchant="+b.merchantID+"&mode=test", `main[data-page=payment]`)
	overflow, err := chromedp.Run(phone, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
	if err != nil || overflow {
		t.Fatalf("the payment page is wider than a phone (err=%v)", err)
	}
	requireText(t, phone, "₩9,900", "Refund…")
	screenshot(t, phone, "console-payment-phone")
}
