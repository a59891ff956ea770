package sandbox

import (
	"crypto/sha256"
	"embed"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strings"
)

// The browser side of the sandbox: a drop-in iamport.js (IMP.init,
// IMP.request_pay) and the checkout page it opens, so a merchant's own
// frontend runs against test mode with only the script's URL changed. The
// page posts to the same window endpoint as the JSON simulation
// (window.go), so what it issues is what GET /subscribe/customers returns.

//go:embed browser/iamport.js browser/checkout.html
var browserFiles embed.FS

var checkoutTmpl = template.Must(template.ParseFS(browserFiles, "browser/checkout.html"))

// MerchantCode is the 가맹점 식별코드 (what IMP.init takes) of the sandbox
// account with this imp_key. Real Iamport assigns one per account; the
// sandbox derives it, so a test-mode provider account can carry it in its
// settings (imp_code) without the sandbox being told.
func MerchantCode(impKey string) string {
	sum := sha256.Sum256([]byte("imp_code\x00" + impKey))
	return fmt.Sprintf("imp%08d", binary.BigEndian.Uint32(sum[:4])%100000000)
}

// keyForCode finds the account whose merchant code is code; s.mu is held.
func (s *Server) keyForCode(code string) string {
	for key := range s.accounts {
		if MerchantCode(key) == code {
			return key
		}
	}
	return ""
}

func (s *Server) serveScript(w http.ResponseWriter, _ *http.Request) {
	b, _ := browserFiles.ReadFile("browser/iamport.js")
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}

// checkoutView is what the checkout page shows and reports.
type checkoutView struct {
	Merchant string // the imp_code, or a note that it is unknown
	PG       string
	Name     string
	Amount   int64
	Card     string
	Error    string // set when the window refuses its parameters
	ErrCode  string
	Redirect bool
	Params   template.JS // the request_pay parameters, as JSON
	Origin   string      // where results are posted (iframe mode)
}

// checkoutPage serves GET /sandbox/checkout?imp_code=…&params=<json>
// &mode=iframe|redirect&origin=…: the page standing in for the PG's window.
// It checks the parameters as the PG's window would, on the same rules as
// the JSON window, and when they are refused it shows why and reports the
// failure at once, as the real window's callback does.
func (s *Server) checkoutPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var p map[string]any
	if err := json.Unmarshal([]byte(q.Get("params")), &p); err != nil || p == nil {
		p = map[string]any{}
	}
	str := func(k string) string { v, _ := p[k].(string); return v }
	// Re-encoded, never echoed: json.Marshal escapes <, > and &, so no
	// parameter can close the script it is written into.
	safe, _ := json.Marshal(p)
	v := checkoutView{Merchant: q.Get("imp_code"), PG: str("pg"), Name: str("name"), Card: testCard,
		Redirect: q.Get("mode") == "redirect", Params: template.JS(safe), Origin: q.Get("origin")}
	if n, ok := p["amount"].(float64); ok {
		v.Amount = int64(n)
	}
	s.mu.Lock()
	known := s.keyForCode(v.Merchant) != ""
	s.mu.Unlock()
	v.ErrCode, v.Error = checkRequestPay(known, p)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:")
	w.Header().Set("Cache-Control", "no-store")
	_ = checkoutTmpl.Execute(w, v)
}

// checkRequestPay refuses what the real window refuses for a billing-key
// request (reference/iamport.md §9–10): an unknown merchant code, no
// customer_uid (the sandbox only issues keys), a PG it does not model, the
// wrong pay_method for the PG (PAYCO and friends: card; CHAI: trans), and a
// PG that always redirects without m_redirect_url.
func checkRequestPay(knownMerchant bool, p map[string]any) (code, msg string) {
	str := func(k string) string { v, _ := p[k].(string); return strings.TrimSpace(v) }
	pg, uid, method, redirect := str("pg"), str("customer_uid"), str("pay_method"), str("m_redirect_url")
	pgCode, _, rule, known := resolvePG(pg)
	switch {
	case !knownMerchant:
		return "F400", "가맹점 식별코드를 찾을 수 없습니다. IMP.init()에 올바른 식별코드를 넣어주세요."
	case uid == "":
		return "F400", "customer_uid가 없습니다: sandbox 결제창은 빌링키 발급(customer_uid)만 지원합니다."
	case str("merchant_uid") == "":
		return "F400", "merchant_uid는 필수입니다."
	case pg == "" || !known:
		return "F400", fmt.Sprintf("sandbox가 지원하지 않는 PG입니다: %q", pgCode)
	case method != rule.payMethod:
		return "F400", fmt.Sprintf("%s 빌링키 발급은 pay_method '%s'만 지원합니다.", pgCode, rule.payMethod)
	case rule.redirect && redirect == "":
		return "F400", fmt.Sprintf("%s는 항상 리다이렉트되므로 m_redirect_url이 필요합니다.", pgCode)
	}
	return "", ""
}
