package sandbox_test

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/billingd/billingd/internal/providers/iamport/sandbox"
)

func getPage(t *testing.T, u string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestScriptServed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	status, h, body := getPage(t, b.url+"/iamport.js")
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/javascript") {
		t.Fatalf("HTTP %d %s", status, h.Get("Content-Type"))
	}
	for _, want := range []string{"window.IMP", "request_pay", "init:"} {
		if !strings.Contains(body, want) {
			t.Errorf("iamport.js lacks %q", want)
		}
	}
	if strings.Contains(body, "https://") && !strings.Contains(body, "cdn.iamport.kr/v1/iamport.js,") {
		t.Error("iamport.js names an outside URL it might load")
	}
}

// The checkout page refuses, on the PG's rules, what the real window
// refuses; a refused page cannot be completed.
func TestCheckoutRefuses(t *testing.T) {
	t.Parallel()
	b := setup(t)
	code := sandbox.MerchantCode(key)
	ok := map[string]any{"pg": "payco", "pay_method": "card", "merchant_uid": "bk_1", "customer_uid": "cuid_1", "amount": 0}
	// with returns ok changed by pairs of key, value (nil: removed).
	with := func(kv ...any) map[string]any {
		m := map[string]any{}
		for k, v := range ok {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		return m
	}
	for _, tc := range []struct {
		name   string
		code   string
		params map[string]any
		want   string // "" = accepted
	}{
		{"OK", code, ok, ""},
		{"UnknownMerchant", "imp00000000", ok, "가맹점 식별코드"},
		{"NoCustomerUID", code, with("customer_uid", nil), "customer_uid"},
		{"PaycoWithTrans", code, with("pay_method", "trans"), "pay_method 'card'"},
		{"ChaiWithoutRedirect", code, with("pg", "chai", "pay_method", "trans"), "m_redirect_url"},
		{"ChaiWithCard", code, with("pg", "chai", "m_redirect_url", "https://shop.example/return"), "pay_method 'trans'"},
		{"UnknownPG", code, with("pg", "nopg"), "지원하지 않는 PG"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, _ := json.Marshal(tc.params)
			q := url.Values{"imp_code": {tc.code}, "params": {string(raw)}, "mode": {"iframe"}}
			status, _, page := getPage(t, b.url+"/sandbox/checkout?"+q.Encode())
			if status != 200 {
				t.Fatalf("HTTP %d", status)
			}
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

// The browser window names the merchant by its code; the key it issues is
// the account's, as GET /subscribe/customers sees it.
func TestWindowIssueByMerchantCode(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := map[string]any{"imp_code": sandbox.MerchantCode(key), "customer_uid": "cuid_code", "pg": "payco", "pay_method": "card"}
	r := call(t, "POST", b.url+"/sandbox/window/billing_keys", nil, body)
	if r.status != 200 {
		t.Fatalf("HTTP %d", r.status)
	}
	if _, ok := b.sb.Customer(key, "cuid_code"); !ok {
		t.Fatal("the key was not issued under the account of the merchant code")
	}
	body["imp_code"] = "imp00000000"
	if r := call(t, "POST", b.url+"/sandbox/window/billing_keys", nil, body); r.status != 400 {
		t.Fatalf("unknown merchant code: HTTP %d, want 400", r.status)
	}
}

// Parameters are data: none can close the page's script or inject markup.
func TestCheckoutEscapesParams(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// Written by hand: json.Marshal would escape the brackets itself.
	raw := `{"pg":"payco","pay_method":"card","merchant_uid":"m","customer_uid":"c",` +
		`"name":"</script><script>alert(1)</script>","buyer_name":"\"><img src=x onerror=alert(1)>"}`
	q := url.Values{"imp_code": {`"><script>alert(2)</script>`}, "params": {raw}, "origin": {`</script><script>alert(3)</script>`}}
	_, _, page := getPage(t, b.url+"/sandbox/checkout?"+q.Encode())
	for _, bad := range []string{"<script>alert(", "<img src=x"} {
		if strings.Contains(page, bad) {
			t.Fatalf("page contains %q:\n%s", bad, page)
		}
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
