package sandbox

import (
	"embed"
	"encoding/json"
	"html/template"
	"net/http"
	"strings"
)

// The browser side of the sandbox: a drop-in browser-sdk.js
// (PortOne.requestIssueBillingKey) and the window page it opens. The page
// posts to POST /sandbox/window/billing_keys, so the billing key it hands
// the merchant's page is one the REST API then looks up.

//go:embed browser/browser-sdk.js browser/window.html
var browserFiles embed.FS

var windowTmpl = template.Must(template.ParseFS(browserFiles, "browser/window.html"))

func (s *Server) serveScript(w http.ResponseWriter, _ *http.Request) {
	b, _ := browserFiles.ReadFile("browser/browser-sdk.js")
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}

type windowView struct {
	StoreID, ChannelKey, IssueName, Card string
	Payload                              template.JS
	Origin                               string
	Known                                bool
}

// windowPage serves GET /sandbox/window?params=<json>&origin=…: the page
// standing in for PortOne's billing-key window. An unknown storeId is shown
// and the Complete button stays off; the rest is checked by the endpoint
// the page posts to.
func (s *Server) windowPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var p map[string]any
	if err := json.Unmarshal([]byte(q.Get("params")), &p); err != nil || p == nil {
		p = map[string]any{}
	}
	str := func(k string) string { v, _ := p[k].(string); return strings.TrimSpace(v) }
	// Re-encoded, never echoed: json.Marshal escapes <, > and &.
	safe, _ := json.Marshal(p)
	v := windowView{StoreID: str("storeId"), ChannelKey: str("channelKey"), IssueName: str("issueName"),
		Card: windowTestCard, Payload: template.JS(safe), Origin: q.Get("origin")}
	s.mu.Lock()
	v.Known = s.stores[v.StoreID] != nil
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'")
	w.Header().Set("Cache-Control", "no-store")
	_ = windowTmpl.Execute(w, v)
}
