package sandbox

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"
)

// The browser side of the sandbox: a drop-in bootpay.js
// (Bootpay.requestSubscription, Bootpay.requestAuthentication) and the
// checkout page it opens. The page posts to the same window endpoints as
// the JSON simulation (window.go), so the receipt_id it hands the
// merchant's page is one the REST API then looks up.

//go:embed browser/bootpay.js browser/checkout.html
var browserFiles embed.FS

var checkoutTmpl = template.Must(template.ParseFS(browserFiles, "browser/checkout.html"))

func (s *Server) serveScript(w http.ResponseWriter, _ *http.Request) {
	b, _ := browserFiles.ReadFile("browser/bootpay.js")
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}

// windowPGs are the PGs that issue a card billing key through Bootpay's
// window (reference/bootpay.md §9: kcp, danal, payletter, inicis, welcome,
// nicepay, payapp).
var windowPGs = map[string]bool{"kcp": true, "danal": true, "payletter": true, "inicis": true,
	"welcome": true, "nicepay": true, "payapp": true}

// testIdentity is a preset on the certification page.
type testIdentity struct {
	Label, Name, Phone, Birth, Carrier string
	Gender                             int
}

// identityPresets are an adult and a minor, relative to the sandbox clock
// so that "minor" stays a minor whatever the date.
func identityPresets(now time.Time) []testIdentity {
	return []testIdentity{
		{Label: "성인 (adult)", Name: "홍길동", Phone: "01012345678", Birth: "19900104", Carrier: "SKT", Gender: 1},
		{Label: "미성년자 (minor)", Name: "김하늘", Phone: "01098765432", Birth: now.AddDate(-15, 0, 0).Format("20060102"), Carrier: "KT", Gender: 0},
	}
}

type checkoutView struct {
	Kind     string // subscription | authentication
	AppID    string
	PG       string
	Name     string // order_name
	Price    int64
	Card     string
	Error    string
	ErrCode  string
	Redirect bool
	Payload  template.JS
	Origin   string
	Presets  []testIdentity
}

// checkoutPage serves GET /sandbox/checkout?kind=subscription|authentication
// &payload=<json>&mode=iframe|redirect&origin=…: the page standing in for
// Bootpay's window. It checks the payload as Bootpay would, on the same
// rules as the JSON window, and when it is refused shows why and rejects
// the SDK's promise at once.
func (s *Server) checkoutPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var p map[string]any
	if err := json.Unmarshal([]byte(q.Get("payload")), &p); err != nil || p == nil {
		p = map[string]any{}
	}
	str := func(k string) string { v, _ := p[k].(string); return strings.TrimSpace(v) }
	// Re-encoded, never echoed: json.Marshal escapes <, > and &, so no
	// field can close the script it is written into.
	safe, _ := json.Marshal(p)
	v := checkoutView{Kind: q.Get("kind"), AppID: str("application_id"), PG: str("pg"), Name: str("order_name"),
		Card: "5570420400001074", Redirect: q.Get("mode") == "redirect", Payload: template.JS(safe),
		Origin: q.Get("origin"), Presets: identityPresets(s.Now())}
	if n, ok := p["price"].(float64); ok {
		v.Price = int64(n)
	}
	s.mu.RLock()
	known := s.accounts[v.AppID] != nil
	s.mu.RUnlock()
	v.ErrCode, v.Error = checkPayload(v.Kind, known, p)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'")
	w.Header().Set("Cache-Control", "no-store")
	_ = checkoutTmpl.Execute(w, v)
}

// checkPayload refuses what Bootpay refuses for the two windows: an unknown
// application_id; for a billing key, no subscription_id or order_name, a
// PG that does not issue keys in the window, a price that is not a number;
// for identity, no authentication_id, a PG other than danal.
func checkPayload(kind string, knownApp bool, p map[string]any) (code, msg string) {
	str := func(k string) string { v, _ := p[k].(string); return strings.TrimSpace(v) }
	if !knownApp {
		return "APP_KEY_NOT_FOUND", "application_id를 찾을 수 없습니다."
	}
	switch kind {
	case "subscription":
		_, priced := p["price"].(float64)
		switch {
		case str("subscription_id") == "":
			return "INVALID_PARAMETER", "subscription_id는 필수입니다."
		case str("order_name") == "":
			return "INVALID_PARAMETER", "order_name은 필수입니다."
		case !priced:
			return "INVALID_PARAMETER", "price는 숫자여야 합니다 (빌링키 발급은 0)."
		case !windowPGs[str("pg")]:
			return "INVALID_PARAMETER", fmt.Sprintf("결제창으로 빌링키를 발급하지 않는 PG입니다: %q", str("pg"))
		}
	case "authentication":
		switch {
		case str("authentication_id") == "":
			return "INVALID_PARAMETER", "authentication_id는 필수입니다."
		case str("pg") != "danal" && str("pg") != "다날":
			return "AUTH_NEED_PG_METHOD", "본인인증은 pg 'danal'만 지원합니다."
		}
	default:
		return "INVALID_PARAMETER", "unknown window kind"
	}
	return "", ""
}
