package sandbox

import (
	"encoding/json"
	"net/http"
	"strings"
)

// The sandbox windows stand in for Bootpay's client-side windows: they do
// what a customer finishing the window would, and answer with the
// receipt_id that the window's done event would carry. They are not part
// of Bootpay's API.

type windowCertReq struct {
	ApplicationID string          `json:"application_id"`
	Name          string          `json:"name"`
	Phone         string          `json:"phone"`
	Birth         string          `json:"birth"` // YYYYMMDD
	Gender        json.RawMessage `json:"gender"`
	Carrier       string          `json:"carrier"`
	Foreigner     bool            `json:"foreigner"`
	UniqueID      string          `json:"unique_id"`
	Expired       bool            `json:"expired"`
	NotVerified   bool            `json:"not_verified"`
}

func (s *Server) windowAccount(w http.ResponseWriter, appID string) *account {
	s.mu.RLock()
	a := s.accounts[appID]
	s.mu.RUnlock()
	if a == nil {
		writeJSON(w, http.StatusNotFound, map[string]any{"error_code": "APP_KEY_NOT_FOUND", "message": "unknown application_id"})
	}
	return a
}

func (s *Server) windowCertification(w http.ResponseWriter, r *http.Request) {
	var req windowCertReq
	if e := decode(r, &req); e != nil {
		writeV2Err(w, e)
		return
	}
	a := s.windowAccount(w, req.ApplicationID)
	if a == nil {
		return
	}
	g, ok := parseGender(req.Gender)
	if req.Name == "" || len(req.Birth) != 8 || !allDigits(req.Birth) || !ok {
		writeV2Err(w, badRequest("INVALID_PARAMETER", "name, birth (YYYYMMDD), gender (0 female / 1 male) are required"))
		return
	}
	id := identity{name: req.Name, phone: req.Phone, birth: req.Birth, carrier: req.Carrier, unique: req.UniqueID,
		gender: g, foreigner: req.Foreigner}
	writeJSON(w, http.StatusOK, map[string]any{"receipt_id": s.addCertificate(a, id, req.Expired, req.NotVerified)})
}

func parseGender(raw json.RawMessage) (int, bool) {
	switch strings.Trim(strings.ToLower(string(raw)), `" `) {
	case "0", "f", "female":
		return 0, true
	case "1", "m", "male":
		return 1, true
	}
	return 0, false
}

type windowKeyReq struct {
	ApplicationID  string `json:"application_id"`
	PG             string `json:"pg"`
	CardNumber     string `json:"card_number"`
	SubscriptionID string `json:"subscription_id"`
}

func (s *Server) windowBillingKey(w http.ResponseWriter, r *http.Request) {
	var req windowKeyReq
	if e := decode(r, &req); e != nil {
		writeV2Err(w, e)
		return
	}
	a := s.windowAccount(w, req.ApplicationID)
	if a == nil {
		return
	}
	if req.CardNumber != "" && (!allDigits(req.CardNumber) || len(req.CardNumber) < 12 || len(req.CardNumber) > 19) {
		writeV2Err(w, badRequest("CARD_NO_INVALID", "card_number must be 12-19 digits"))
		return
	}
	if strings.HasSuffix(req.CardNumber, "0000") {
		// The browser window's "refused card", like the Iamport sandbox's
		// (issueKey itself refuses …0004, as REST issuance does).
		writeV2Err(w, errPublish)
		return
	}
	k, e := s.issueKey(a, req.PG, req.SubscriptionID, req.CardNumber)
	if e != nil {
		writeV2Err(w, e)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"receipt_id": k.receiptID})
}

func (s *Server) windowPage(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'")
	_, _ = w.Write([]byte(windowHTML))
}

// windowHTML posts to the two window endpoints with relative URLs, so it
// works under any mount prefix. No external assets.
const windowHTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Bootpay sandbox windows</title>
<style>body{font:14px system-ui,sans-serif;max-width:42em;margin:2em auto}fieldset{margin:1em 0}
label{display:block;margin:.3em 0}input,select{margin-left:.5em}pre{background:#f4f4f4;padding:.6em}</style></head>
<body><h1>Bootpay sandbox windows</h1>
<p>Each form does what a customer finishing the real window would and shows the <code>receipt_id</code>
the window's <code>done</code> event carries. Hand it to billingd.</p>
<fieldset><legend>Identity verification (본인인증, danal)</legend><form id="cert">
<label>application_id<input name="application_id" required></label>
<label>name<input name="name" value="홍길동" required></label>
<label>phone<input name="phone" value="01012345678"></label>
<label>birth (YYYYMMDD)<input name="birth" value="19900104" pattern="[0-9]{8}" required></label>
<label>gender<select name="gender"><option value="1">male</option><option value="0">female</option></select></label>
<label>carrier<select name="carrier"><option>SKT</option><option>KT</option><option>LGU+</option></select></label>
<label>foreigner<input type="checkbox" name="foreigner"></label>
<label>not verified<input type="checkbox" name="not_verified"></label>
<label>expired (lookup refused)<input type="checkbox" name="expired"></label>
<button>Verify</button></form></fieldset>
<fieldset><legend>Card billing key (카드자동)</legend><form id="key">
<label>application_id<input name="application_id" required></label>
<label>pg<select name="pg"><option>nicepay</option><option>kcp</option><option>payapp</option><option>welcome</option></select></label>
<label>card number<input name="card_number" value="5570420400001074"></label>
<button>Issue</button></form></fieldset>
<pre id="out">…</pre>
<script>
for (const [id, path] of [["cert", "window/certifications"], ["key", "window/billing_keys"]]) {
  document.getElementById(id).addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = {};
    for (const el of ev.target.elements) {
      if (!el.name) continue;
      body[el.name] = el.type === "checkbox" ? el.checked : el.value;
    }
    const res = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
    document.getElementById("out").textContent = res.status + " " + await res.text();
  });
}
</script></body></html>
`
