package demo_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"
)

// openDemo loads the demo checkout in a new tab, scripts ready.
func openDemo(t *testing.T, b *testBundle) context.Context {
	t.Helper()
	ctx := newTab(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(b.pageURL+"/sandbox/demo")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the demo page", `window.IMP && window.Bootpay && window.PortOne && document.readyState === "complete"`)
	return ctx
}

func click(t *testing.T, ctx context.Context, selector string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(selector), chromedp.NodeVisible)); err != nil {
		t.Fatalf("click %s: %v", selector, err)
	}
}

// frameDoc is the sandbox window's document inside the SDK's iframe layer
// (same origin as the demo, so the test reaches into it).
func frameDoc(frameID string) string {
	return fmt.Sprintf(`document.getElementById(%q).contentDocument`, frameID)
}

// inWindow runs js with d bound to the window's document.
func inWindow(t *testing.T, ctx context.Context, frameID, js string) {
	t.Helper()
	expr := fmt.Sprintf(`(function (d) { %s; return true; })(%s)`, js, frameDoc(frameID))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr)); err != nil {
		t.Fatalf("in window: %v", err)
	}
}

func waitWindow(t *testing.T, ctx context.Context, frameID string) {
	t.Helper()
	d := frameDoc(frameID)
	waitFor(t, ctx, "the sandbox window", fmt.Sprintf(`document.getElementById(%q) && %s && %s.readyState === "complete" && %s.getElementById("complete")`,
		frameID, d, d, d))
}

func text(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.getElementById(%q).textContent`, id)))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(s)
}

func waitOutcome(t *testing.T, ctx context.Context, outcome string) {
	t.Helper()
	waitFor(t, ctx, "outcome "+outcome, fmt.Sprintf(`document.getElementById("status").dataset.outcome === %q`, outcome))
}

// windowCase is one way a customer ends the PG's window, and what billingd
// must have recorded afterwards.
type windowCase struct {
	name    string
	act     string // JavaScript run in the window's document d
	outcome string // the demo page's result
	status  string // the billing key's status in billingd
}

func windowCases(refusedCard string) []windowCase {
	return []windowCase{
		{"Complete", `d.getElementById("complete").click()`, "active", "active"},
		{"RefusedCard", fmt.Sprintf(`d.getElementById("card_number").value = %q; d.getElementById("complete").click()`, refusedCard),
			"window-failed", "pending"},
		{"FailButton", `d.getElementById("fail").click()`, "window-failed", "pending"},
		{"Close", `d.getElementById("close").click()`, "window-closed", "pending"},
	}
}

func TestIamportWindowFromDemo(t *testing.T) {
	t.Parallel()
	for _, tc := range windowCases("4242-4242-4242-0000") {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			ctx := openDemo(t, b)
			click(t, ctx, "#iamport-payco")
			waitWindow(t, ctx, "imp-sandbox-frame")
			if tc.name == "Complete" {
				screenshot(t, ctx, "iamport-window")
			}
			inWindow(t, ctx, "imp-sandbox-frame", tc.act)
			waitOutcome(t, ctx, tc.outcome)
			waitFor(t, ctx, "the layer to close", `!document.getElementById("imp-sandbox-layer")`)
			id := text(t, ctx, "bk-id")
			key := b.get(t, "/v1/billing_keys/"+id)
			if key["status"] != tc.status || key["pg"] != "payco" {
				t.Fatalf("billing key %s: status %v pg %v, want %s payco", id, key["status"], key["pg"], tc.status)
			}
			alias, _ := key["customer_uid"].(string)
			_, issued := b.sandbox.Iamport.Customer(b.impKey, alias)
			if issued != (tc.status == "active") {
				t.Fatalf("the sandbox holds a key for %q: %v, want %v", alias, issued, tc.status == "active")
			}
			if tc.name == "Complete" {
				screenshot(t, ctx, "demo-iamport-active")
			}
		})
	}
}

func TestBootpayWindowFromDemo(t *testing.T) {
	t.Parallel()
	for _, tc := range windowCases("5570420400000000") {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			ctx := openDemo(t, b)
			click(t, ctx, "#bootpay-nicepay")
			waitWindow(t, ctx, "bootpay-sandbox-frame")
			if tc.name == "Complete" {
				screenshot(t, ctx, "bootpay-window")
			}
			inWindow(t, ctx, "bootpay-sandbox-frame", tc.act)
			waitOutcome(t, ctx, tc.outcome)
			waitFor(t, ctx, "the layer to close", `!document.getElementById("bootpay-sandbox-layer")`)
			id := text(t, ctx, "bk-id")
			key := b.get(t, "/v1/billing_keys/"+id)
			if key["status"] != tc.status || key["pg"] != "nicepay" {
				t.Fatalf("billing key %s: status %v pg %v, want %s nicepay", id, key["status"], key["pg"], tc.status)
			}
		})
	}
}

func TestCertificationFromDemo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, preset, outcome string
	}{
		{"Adult", "#preset-0", "certified"},
		{"Minor", "#preset-1", "cert-refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			ctx := openDemo(t, b)
			if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#min-age"), "19")); err != nil {
				t.Fatal(err)
			}
			click(t, ctx, "#certify")
			waitWindow(t, ctx, "bootpay-sandbox-frame")
			inWindow(t, ctx, "bootpay-sandbox-frame", fmt.Sprintf(`d.querySelector(%q).click()`, tc.preset))
			if tc.name == "Minor" {
				screenshot(t, ctx, "bootpay-identity-window")
			}
			inWindow(t, ctx, "bootpay-sandbox-frame", `d.getElementById("complete").click()`)
			waitOutcome(t, ctx, tc.outcome)
			switch tc.outcome {
			case "certified":
				cert := b.get(t, "/v1/certifications/"+text(t, ctx, "cert-id"))
				ident, _ := cert["identity"].(map[string]any)
				req, _ := cert["requirements"].(map[string]any)
				if cert["status"] != "verified" || ident["name"] != "홍길동" || req["min_age"] != float64(19) {
					t.Fatalf("certification recorded: %v", cert)
				}
			case "cert-refused":
				if got := text(t, ctx, "status"); !strings.Contains(got, "younger than 19") {
					t.Fatalf("status %q, want the min_age refusal", got)
				}
				if got := text(t, ctx, "cert-id"); got != "—" {
					t.Fatalf("a refused certification shows id %q", got)
				}
				screenshot(t, ctx, "demo-certification-refused")
			}
		})
	}
}

// CHAI always redirects: the page goes to the window, which returns to
// m_redirect_url (the demo) with imp_success, and the demo confirms.
func TestChaiRedirectFromDemo(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := openDemo(t, b)
	click(t, ctx, "#iamport-chai")
	waitFor(t, ctx, "the CHAI window", `location.pathname.endsWith("/sandbox/iamport/sandbox/checkout") && document.getElementById("complete")`)
	screenshot(t, ctx, "iamport-chai-redirect-window")
	click(t, ctx, "#complete")
	waitFor(t, ctx, "the return to the demo", `location.pathname === "/sandbox/demo" && new URLSearchParams(location.search).get("imp_success") === "true"`)
	waitOutcome(t, ctx, "active")
	key := b.get(t, "/v1/billing_keys/"+text(t, ctx, "bk-id"))
	if key["status"] != "active" || key["pg"] != "chai" {
		t.Fatalf("billing key: %v", key)
	}
}

// On a phone Iamport redirects to m_redirect_url instead of calling back,
// for PAYCO too; the demo confirms on its return.
func TestIamportMobileRedirectFromDemo(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := newTab(t)
	if err := chromedp.Do(ctx, chromedp.Emulate(device.IPhone13), chromedp.Navigate(b.pageURL+"/sandbox/demo")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the demo page", `window.IMP && document.readyState === "complete"`)
	click(t, ctx, "#iamport-payco")
	waitFor(t, ctx, "the PAYCO window as a page", `location.pathname.endsWith("/sandbox/iamport/sandbox/checkout") && document.getElementById("complete")`)
	screenshot(t, ctx, "iamport-mobile-redirect-window")
	click(t, ctx, "#complete")
	waitFor(t, ctx, "the return to the demo", `location.pathname === "/sandbox/demo" && new URLSearchParams(location.search).get("imp_success") === "true"`)
	waitOutcome(t, ctx, "active")
	if key := b.get(t, "/v1/billing_keys/"+text(t, ctx, "bk-id")); key["status"] != "active" || key["pg"] != "payco" {
		t.Fatalf("billing key: %v", key)
	}
}
