package sandbox

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

// windowResult is what a completed window reports, like IMP.request_pay's
// callback: success, the key's alias and the masked card.
type windowResult struct {
	Success     bool       `json:"success"`
	ErrorCode   string     `json:"error_code,omitempty"`
	ErrorMsg    string     `json:"error_msg,omitempty"`
	CustomerUID string     `json:"customer_uid,omitempty"`
	PGProvider  string     `json:"pg_provider,omitempty"`
	PayMethod   string     `json:"pay_method,omitempty"`
	CardName    NullString `json:"card_name,omitempty"`
	CardNumber  NullString `json:"card_number,omitempty"`
	RedirectURL string     `json:"redirect_url,omitempty"`
}

func windowFail(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, windowResult{ErrorCode: code, ErrorMsg: msg})
}

// windowIssue serves POST /sandbox/window/billing_keys: the outcome of
// IMP.request_pay with a customer_uid, for any PG (window-only or REST).
// Fields: imp_key (or imp_code, the merchant code), customer_uid, pg, pay_method (must be the PG's: card, or
// trans for CHAI), m_redirect_url (required for CHAI), card_number
// (optional; a test card by default; ending in 0000 fails the window),
// customer_name, customer_tel, customer_email, merchant_uid (optional,
// echoed in redirect_url). 400 for a request the window would refuse, 402
// when the instrument is refused, 200 with the key otherwise.
func (s *Server) windowIssue(w http.ResponseWriter, r *http.Request) {
	p, err := readParams(r)
	if err != nil {
		windowFail(w, http.StatusBadRequest, "F400", "요청 본문을 해석할 수 없습니다.")
		return
	}
	key, uid, pg, method := p.str("imp_key"), p.str("customer_uid"), p.str("pg"), p.str("pay_method")
	if key == "" && p.str("imp_code") != "" {
		// The browser window knows the merchant by its code (IMP.init).
		s.mu.Lock()
		key = s.keyForCode(p.str("imp_code"))
		s.mu.Unlock()
		if key == "" {
			windowFail(w, http.StatusBadRequest, "F400", "가맹점 식별코드를 찾을 수 없습니다.")
			return
		}
	}
	redirect, card := p.str("m_redirect_url"), p.str("card_number")
	if card == "" {
		card = testCard
	}
	code, mid, rule, known := resolvePG(pg)
	switch {
	case key == "" || uid == "" || pg == "":
		windowFail(w, http.StatusBadRequest, "F400", "imp_key, customer_uid, pg는 필수입니다.")
		return
	case !known:
		windowFail(w, http.StatusBadRequest, "F400", fmt.Sprintf("sandbox가 지원하지 않는 PG입니다: %s", code))
		return
	case method != rule.payMethod:
		windowFail(w, http.StatusBadRequest, "F400", fmt.Sprintf("%s 빌링키 발급은 pay_method '%s'만 지원합니다.", code, rule.payMethod))
		return
	case rule.redirect && redirect == "":
		windowFail(w, http.StatusBadRequest, "F400", fmt.Sprintf("%s는 항상 리다이렉트되므로 m_redirect_url이 필요합니다.", code))
		return
	case redirect != "" && !strings.HasPrefix(redirect, "http://") && !strings.HasPrefix(redirect, "https://"):
		windowFail(w, http.StatusBadRequest, "F400", "m_redirect_url은 http(s) URL이어야 합니다.")
		return
	}
	if e := checkCard(card); e != nil {
		windowFail(w, http.StatusPaymentRequired, "F402", e.msg)
		return
	}
	s.mu.Lock()
	a := s.accounts[key]
	var c Customer
	if a != nil {
		cp := s.putCustomer(a, uid, code, mid, rule.payMethod, card)
		cp.CustomerName = NullString(p.str("customer_name"))
		cp.CustomerTel = NullString(p.str("customer_tel"))
		cp.CustomerEmail = NullString(p.str("customer_email"))
		c = *cp
	}
	s.mu.Unlock()
	if a == nil {
		windowFail(w, http.StatusBadRequest, "F400", "등록되지 않은 imp_key입니다.")
		return
	}
	res := windowResult{Success: true, CustomerUID: uid, PGProvider: code, PayMethod: rule.payMethod,
		CardName: c.CardName, CardNumber: c.CardNumber}
	if redirect != "" {
		q := url.Values{"imp_success": {"true"}, "customer_uid": {uid}, "merchant_uid": {p.str("merchant_uid")}}
		sep := "?"
		if strings.Contains(redirect, "?") {
			sep = "&"
		}
		res.RedirectURL = redirect + sep + q.Encode()
	}
	writeJSON(w, http.StatusOK, res)
}

// windowPage serves GET /sandbox/window: a minimal page standing in for the
// PG window. Its "Complete" button posts the query's parameters (and the card
// number typed in) to billing_keys beside it, then follows redirect_url.
func (s *Server) windowPage(w http.ResponseWriter, r *http.Request) {
	// The page's own path as the browser sees it (RequestURI survives
	// http.StripPrefix), so the post works under any mount prefix.
	path := r.URL.Path
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil && u.Path != "" {
		path = u.Path
	}
	q := r.URL.Query()
	data := map[string]any{
		"Action": strings.TrimSuffix(path, "/") + "/billing_keys",
		"Fields": []string{"imp_key", "customer_uid", "pg", "pay_method", "m_redirect_url", "merchant_uid",
			"customer_name", "customer_tel", "customer_email"},
		"Query": q,
		"Card":  testCard,
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = windowTmpl.Execute(w, data)
}

var windowTmpl = template.Must(template.New("window").Parse(`<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><title>Iamport sandbox — billing key window</title>
<style>body{font-family:sans-serif;max-width:32em;margin:2em auto}label{display:block;margin:.4em 0}
input{width:100%}pre{background:#eee;padding:1em;white-space:pre-wrap}</style></head>
<body><h1>Iamport sandbox window</h1>
<p>Stands in for IMP.request_pay with a customer_uid. Nothing is charged.
A card number ending in 0000 makes the window fail.</p>
<form id="f">
{{range .Fields}}<label>{{.}} <input name="{{.}}" value="{{$.Query.Get .}}"></label>
{{end}}<label>card_number <input name="card_number" value="{{.Card}}"></label>
<button type="submit">Complete</button></form>
<pre id="out"></pre>
<script>
document.getElementById("f").addEventListener("submit", async function (ev) {
  ev.preventDefault();
  var body = {};
  new FormData(ev.target).forEach(function (v, k) { if (v !== "") body[k] = v; });
  var res = await fetch({{.Action}}, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  var rsp = await res.json();
  document.getElementById("out").textContent = JSON.stringify(rsp, null, 2);
  if (rsp.success && rsp.redirect_url) { window.location.href = rsp.redirect_url; }
});
</script></body></html>
`))
