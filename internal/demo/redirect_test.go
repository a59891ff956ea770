package demo_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
)

// Bootpay's redirect mode (extra.open_type "redirect"): the page goes to the
// window, which returns to redirect_url with event=done and the receipt_id;
// the merchant's server confirms the key with it.
func TestBootpayRedirectMode(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := openDemo(t, b)
	reg, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`fetch("/sandbox/demo/backend/registrations", {method: "POST",
		headers: {"Content-Type": "application/json"}, body: JSON.stringify({provider: "bootpay", pg: "nicepay"})}).then(r => r.json())`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	id, _ := reg["id"].(string)
	params, _ := json.Marshal(reg["client_params"])
	start := fmt.Sprintf(`Bootpay.requestSubscription(Object.assign({application_id: %q}, %s,
		{extra: {open_type: "redirect", redirect_url: location.origin + "/sandbox/demo?flow=bootpay"}})); true`, b.bootpayAppID, params)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](start)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the Bootpay window", `location.pathname.endsWith("/sandbox/bootpay/sandbox/checkout") && document.getElementById("complete")`)
	click(t, ctx, "#complete")
	waitFor(t, ctx, "the return", `location.pathname === "/sandbox/demo" && new URLSearchParams(location.search).get("event") === "done"`)
	receipt, err := chromedp.Run(ctx, chromedp.Evaluate[string](`new URLSearchParams(location.search).get("receipt_id")`))
	if err != nil || receipt == "" {
		t.Fatalf("no receipt_id in the redirect: %v", err)
	}
	body, _ := json.Marshal(map[string]string{"receipt_id": receipt})
	req, _ := http.NewRequest(http.MethodPost, b.url+"/v1/billing_keys/"+id+"/confirm", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+b.secret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if key := b.get(t, "/v1/billing_keys/"+id); resp.StatusCode != http.StatusOK || key["status"] != "active" {
		t.Fatalf("confirm with the redirect's receipt_id: HTTP %d, key %v", resp.StatusCode, key)
	}
}
