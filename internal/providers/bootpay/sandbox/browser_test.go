package sandbox_test

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/billingd/billingd/internal/providers/bootpay/sandbox"
)

func TestScriptServed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	resp, err := http.Get(e.srv.URL + prefix + "/bootpay.js")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("HTTP %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{"window.Bootpay", "requestSubscription", "requestAuthentication"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("bootpay.js lacks %q", want)
		}
	}
}

// The checkout page refuses what Bootpay refuses; a refused page cannot be
// completed.
func TestCheckoutRefuses(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	sub := map[string]any{"application_id": appID, "pg": "nicepay", "price": 0, "order_name": "정기결제", "subscription_id": "sub_1"}
	auth := map[string]any{"application_id": appID, "pg": "danal", "method": "본인인증", "authentication_id": "auth_1"}
	without := func(m map[string]any, k string, v any) map[string]any {
		out := map[string]any{}
		for kk, vv := range m {
			out[kk] = vv
		}
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
		return out
	}
	for _, tc := range []struct {
		name, kind string
		payload    map[string]any
		want       string
	}{
		{"Subscription", "subscription", sub, ""},
		{"UnknownApp", "subscription", without(sub, "application_id", "nope"), "APP_KEY_NOT_FOUND"},
		{"NoSubscriptionID", "subscription", without(sub, "subscription_id", nil), "subscription_id"},
		{"NoOrderName", "subscription", without(sub, "order_name", nil), "order_name"},
		{"PriceNotNumber", "subscription", without(sub, "price", "0"), "price"},
		{"PGWithoutWindowKeys", "subscription", without(sub, "pg", "kakao"), "PG"},
		{"Authentication", "authentication", auth, ""},
		{"NoAuthenticationID", "authentication", without(auth, "authentication_id", nil), "authentication_id"},
		{"AuthNotDanal", "authentication", without(auth, "pg", "kcp"), "AUTH_NEED_PG_METHOD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, _ := json.Marshal(tc.payload)
			q := url.Values{"kind": {tc.kind}, "payload": {string(raw)}}
			resp, err := http.Get(e.srv.URL + prefix + "/sandbox/checkout?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			page := string(b)
			refused := strings.Contains(page, `data-state="refused"`)
			if refused != (tc.want != "") || !strings.Contains(refusal(page), tc.want) {
				t.Fatalf("refused=%v, want refusal %q; page:\n%s", refused, tc.want, page)
			}
			if tc.want != "" && !strings.Contains(page, `id="complete" disabled`) {
				t.Error("a refused window can still be completed")
			}
		})
	}
}

// The browser window refuses a card ending in 0000, like the Iamport one.
func TestWindowRefusesCard0000(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	status, body := e.do(t, "POST", "/sandbox/window/billing_keys", "", map[string]any{
		"application_id": appID, "pg": "nicepay", "subscription_id": "sub_1", "card_number": "5570420400000000"})
	if status != 400 || body["error_code"] != "SUBSCRIBE_PUBLISH_FAILED" {
		t.Fatalf("HTTP %d %v", status, body)
	}
}

// Payload fields are data: none can close the page's script.
func TestCheckoutEscapesPayload(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	// Written by hand: json.Marshal would escape the brackets itself.
	raw := `{"application_id":"` + appID + `","pg":"nicepay","price":0,"subscription_id":"s",` +
		`"order_name":"</script><script>alert(1)</script>"}`
	q := url.Values{"kind": {"subscription"}, "payload": {raw}, "origin": {`</script><script>alert(2)</script>`}}
	resp, err := http.Get(e.srv.URL + prefix + "/sandbox/checkout?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(page), "<script>alert(") {
		t.Fatalf("page contains a script from the payload:\n%s", page)
	}
}

// refusal is the text of the page's refusal notice ("" when none).
func refusal(page string) string {
	_, after, ok := strings.Cut(page, `id="refused">`)
	if !ok {
		return ""
	}
	text, _, _ := strings.Cut(after, "</p>")
	return html.UnescapeString(text)
}
