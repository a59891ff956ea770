package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestConsoleRefusals: a wrong token, a forged CSRF token, an expired
// session and too many sign-ins are refused, and a refused action changes
// nothing.
func TestConsoleRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	payID := b.payment["id"].(string)

	t.Run("WrongToken", func(t *testing.T) {
		ctx := newTab(t)
		run(t, ctx, chromedp.Navigate(b.url+"/console/payments"),
			chromedp.SetValue(chromedp.CSS("#operator-name"), "mallory"), chromedp.SetValue(chromedp.CSS("#token"), "guess"))
		click(t, ctx, "#login button", "#error")
		requireText(t, ctx, "not the admin token")
		if rows := b.auditActions(t, "action=console.login_refused&actor_id=mallory"); len(rows) != 1 || rows[0]["source_ip"] != "127.0.0.1" {
			t.Fatalf("refused sign-in audit rows: %v", rows)
		}
	})

	t.Run("ForgedCSRF", func(t *testing.T) {
		ctx := newTab(t)
		b.login(t, ctx, "carol")
		b.open(t, ctx, "/console/actions/refund?merchant="+b.merchantID+"&mode=test&payment="+payID+"&amount=1000&reason=x", `main[data-page=confirm]`)
		run(t, ctx, chromedp.SetValue(chromedp.CSS(`#confirm-form input[name=csrf]`), "forged"))
		click(t, ctx, "#confirm", `main[data-page=error]`)
		requireText(t, ctx, "CSRF token mismatch")
		// The real token still works: the refusal changed nothing.
		pay := b.call(t, b.secret, "GET", "/v1/payments/"+payID, "", nil, http.StatusOK)
		if pay["refunded_amount"] != float64(0) {
			t.Fatalf("a forged form refunded: %v", pay)
		}
	})

	t.Run("ExpiredSession", func(t *testing.T) {
		for _, expire := range []string{
			`UPDATE console_sessions SET last_seen_at = now() - interval '31 minutes' WHERE operator = 'dave'`, // idle
			`UPDATE console_sessions SET expires_at = now() - interval '1 second' WHERE operator = 'dave'`,     // absolute
		} {
			ctx := newTab(t)
			b.login(t, ctx, "dave")
			b.open(t, ctx, "/console/actions/refund?merchant="+b.merchantID+"&mode=test&payment="+payID+"&amount=1000&reason=x", `main[data-page=confirm]`)
			if _, err := b.store.Pool().Exec(context.Background(), expire); err != nil {
				t.Fatal(err)
			}
			click(t, ctx, "#confirm", `main[data-page=login] #error`)
			requireText(t, ctx, "session has ended")
			b.open(t, ctx, "/console/payments", `main[data-page=login]`)
		}
		pay := b.call(t, b.secret, "GET", "/v1/payments/"+payID, "", nil, http.StatusOK)
		if pay["refunded_amount"] != float64(0) {
			t.Fatalf("an expired session refunded: %v", pay)
		}
	})

	t.Run("Logout", func(t *testing.T) {
		ctx := newTab(t)
		b.login(t, ctx, "erin")
		click(t, ctx, "#logout", `main[data-page=login]`)
		b.open(t, ctx, "/console/", `main[data-page=login]`)
		if rows := b.auditActions(t, "action=console.logout&actor_id=erin"); len(rows) != 1 {
			t.Fatalf("logout audit rows %v", rows)
		}
	})

	t.Run("CookieAndRateLimit", func(t *testing.T) {
		b := setupWith(t, 5)
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		post := func(host, token string) *http.Response {
			req, _ := http.NewRequest("POST", b.url+"/console/login", strings.NewReader(url.Values{"operator": {"frank"}, "token": {token}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if host != "" {
				req.Host = host
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp
		}
		for _, tc := range []struct {
			host   string
			secure bool
		}{{"", false}, {"console.example.com", true}} {
			resp := post(tc.host, adminToken)
			c := resp.Cookies()
			if resp.StatusCode != http.StatusSeeOther || len(c) != 1 || !c[0].HttpOnly || c[0].SameSite != http.SameSiteStrictMode || c[0].Secure != tc.secure {
				t.Fatalf("login via %q: %d %v", tc.host, resp.StatusCode, resp.Header["Set-Cookie"])
			}
		}
		// Two sign-ins spent; the limit is five a minute per address.
		codes := []int{}
		for range 4 {
			codes = append(codes, post("", "wrong").StatusCode)
		}
		if codes[0] != http.StatusUnauthorized || codes[2] != http.StatusUnauthorized || codes[3] != http.StatusTooManyRequests {
			t.Fatalf("sign-in answers %v", codes)
		}
		if resp := post("", adminToken); resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("the right token past the limit answered %d", resp.StatusCode)
		}
	})
}
