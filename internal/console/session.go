package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/go-chi/httprate"

	"github.com/billingd/billingd/internal/audit"
	"github.com/billingd/billingd/internal/store"
)

const cookieName = "billingd_console"

type sessionKey struct{}

// operatorSession is the signed-in operator of a request.
type operatorSession struct {
	Operator string
	CSRF     string
}

func sessionFrom(ctx context.Context) operatorSession {
	s, _ := ctx.Value(sessionKey{}).(operatorSession)
	return s
}

func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// clientIP is the address the API's client-IP middleware decided on
// (X-Forwarded-For from trusted proxies only), else the connection's.
func clientIP(r *http.Request) string {
	if ip := middleware.GetClientIP(r.Context()); ip != "" {
		return ip
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// actor names the operator for the audit log; the API's request-id
// middleware has set X-Request-Id on the response already.
func actor(w http.ResponseWriter, r *http.Request, operator string) audit.Actor {
	return audit.Actor{Type: audit.ActorConsole, ID: operator, SourceIP: clientIP(r), RequestID: w.Header().Get("X-Request-Id")}
}

// loopback reports whether the console is reached on the machine itself
// (billingd dev), where there is no TLS and a Secure cookie would never be
// sent back.
func loopback(r *http.Request) bool {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: value, Path: "/console", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: !loopback(r)})
}

// loginLimit bounds sign-in attempts per client address, so the admin
// token cannot be guessed through the form.
func (c *Console) loginLimit() func(http.Handler) http.Handler {
	return httprate.Limit(c.o.LoginsPerMinute, time.Minute,
		httprate.WithKeyFuncs(func(r *http.Request) (string, error) { return clientIP(r), nil }),
		httprate.WithLimitHandler(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "60")
			c.renderStatus(w, r, http.StatusTooManyRequests, "login", page{Title: "Sign in", Error: "Too many sign-in attempts from your address; wait a minute."})
		}))
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	c.renderStatus(w, r, http.StatusOK, "login", page{Title: "Sign in"})
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	operator := strings.TrimSpace(r.PostFormValue("operator"))
	token := r.PostFormValue("token")
	want := sha256.Sum256([]byte(c.o.AdminToken))
	got := sha256.Sum256([]byte(token))
	if operator == "" || utf8.RuneCountInString(operator) > 64 || !printable(operator) {
		c.renderStatus(w, r, http.StatusBadRequest, "login", page{Title: "Sign in", Error: "Enter your name (up to 64 characters): it goes into the audit log."})
		return
	}
	if c.o.AdminToken == "" || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		// Refused sign-ins are on record too (at most LoginsPerMinute per
		// address, so the log cannot be flooded through the form).
		ctx := audit.WithActor(r.Context(), actor(w, r, operator))
		if err := c.o.Store.RecordAudit(ctx, audit.Change{Action: "console.login_refused", ObjectType: "operator", ObjectID: operator}); err != nil {
			c.fail(w, r, err)
			return
		}
		c.renderStatus(w, r, http.StatusUnauthorized, "login", page{Title: "Sign in", Error: "That is not the admin token."})
		return
	}
	tok := randomToken()
	if err := c.o.Store.CreateConsoleSession(r.Context(), tok, store.ConsoleSession{Operator: operator, CSRFToken: randomToken(),
		ExpiresAt: time.Now().Add(c.o.MaxAge)}); err != nil {
		c.fail(w, r, err)
		return
	}
	ctx := audit.WithActor(r.Context(), actor(w, r, operator))
	if err := c.o.Store.RecordAudit(ctx, audit.Change{Action: "console.login", ObjectType: "operator", ObjectID: operator}); err != nil {
		c.fail(w, r, err)
		return
	}
	c.setCookie(w, r, tok, int(c.o.MaxAge.Seconds()))
	http.Redirect(w, r, "/console/", http.StatusSeeOther)
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// session lets signed-in operators through, checks the CSRF token of every
// POST, and puts the operator in the context as the audit log's actor.
func (c *Console) session(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie(cookieName)
		if err != nil || ck.Value == "" {
			c.toLogin(w, r)
			return
		}
		sess, err := c.o.Store.TouchConsoleSession(r.Context(), ck.Value, time.Now().Add(-c.o.IdleTimeout))
		if errors.Is(err, store.ErrNoSession) {
			c.setCookie(w, r, "", -1)
			c.toLogin(w, r)
			return
		}
		if err != nil {
			c.fail(w, r, err)
			return
		}
		if r.Method == http.MethodPost {
			sent := r.PostFormValue("csrf")
			if subtle.ConstantTimeCompare([]byte(sent), []byte(sess.CSRFToken)) != 1 {
				c.renderStatus(w, r, http.StatusForbidden, "error", page{Title: "Refused",
					Error: "This form is stale or was not sent by the console (CSRF token mismatch). Reload the page and try again."})
				return
			}
		}
		ctx := context.WithValue(r.Context(), sessionKey{}, operatorSession{Operator: sess.Operator, CSRF: sess.CSRFToken})
		ctx = audit.WithActor(ctx, actor(w, r, sess.Operator))
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (c *Console) toLogin(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		c.renderStatus(w, r, http.StatusUnauthorized, "login", page{Title: "Sign in", Error: "Your session has ended; sign in again."})
		return
	}
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	ck, _ := r.Cookie(cookieName)
	if err := c.o.Store.DeleteConsoleSession(r.Context(), ck.Value); err != nil {
		c.fail(w, r, err)
		return
	}
	op := sessionFrom(r.Context()).Operator
	if err := c.o.Store.RecordAudit(r.Context(), audit.Change{Action: "console.logout", ObjectType: "operator", ObjectID: op}); err != nil {
		c.fail(w, r, err)
		return
	}
	c.setCookie(w, r, "", -1)
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
}
