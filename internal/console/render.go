package console

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/billingd/billingd/internal/audit"
	"github.com/billingd/billingd/internal/billing"
)

// page is what every template gets.
type page struct {
	Name     string // the template, for tests: <main data-page=…>
	Title    string
	Nav      string // the menu entry to highlight
	Operator string
	CSRF     string
	Scope    scope
	Error    string
	Notice   string
	Data     any
	Next     string // the next page's URL, when there is one
}

// scope is the merchant and mode every view is filtered by.
type scope struct {
	Merchant  string
	Mode      billing.Mode
	Merchants []billing.Merchant
}

// URL is path with the scope (and extra key/value pairs) in its query.
func (s scope) URL(path string, kv ...string) string {
	q := url.Values{}
	if s.Merchant != "" {
		q.Set("merchant", s.Merchant)
	}
	if s.Mode != "" {
		q.Set("mode", string(s.Mode))
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	return path + "?" + q.Encode()
}

var kst = time.FixedZone("KST", 9*60*60)

var funcs = template.FuncMap{
	"won": won,
	"kst": func(t any) string {
		if tt, ok := asTime(t); ok {
			return tt.In(kst).Format("2006-01-02 15:04:05") + " KST"
		}
		return "—"
	},
	"utc": func(t any) string {
		if tt, ok := asTime(t); ok {
			return tt.UTC().Format(time.RFC3339)
		}
		return ""
	},
	"str": func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	},
	"int": func(p *int) string {
		if p == nil {
			return ""
		}
		return strconv.Itoa(*p)
	},
	"mask":      mask,
	"hasPrefix": strings.HasPrefix,
	"list":      func(v ...string) []string { return v },
	"pays": func(sc scope, list []billing.Payment) any {
		return struct {
			Scope scope
			List  []billing.Payment
		}{sc, list}
	},
}

func asTime(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, !t.IsZero()
	case *time.Time:
		if t != nil {
			return *t, true
		}
	}
	return time.Time{}, false
}

// won renders KRW with thousands separators: ₩1,234,500.
func won(v int64) string {
	neg := v < 0
	if neg {
		v = -v
	}
	s := strconv.FormatInt(v, 10)
	var b []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	if neg {
		return "-₩" + string(b)
	}
	return "₩" + string(b)
}

// mask shows a credential's last four characters at most.
func mask(v string) string {
	if len(v) < 12 {
		return "****"
	}
	return "****" + v[len(v)-4:]
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, name string, p page) {
	c.renderStatus(w, r, http.StatusOK, name, p)
}

func (c *Console) renderStatus(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	s := sessionFrom(r.Context())
	p.Operator, p.CSRF, p.Name = s.Operator, s.CSRF, name
	t := c.pages[name]
	var buf bytes.Buffer
	if err := t.Execute(&buf, p); err != nil {
		zerolog.Ctx(r.Context()).Error().Err(err).Str("page", name).Msg("console: render")
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'none'; frame-ancestors 'none'; form-action 'self'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// view renders a page and records that the operator saw it.
func (c *Console) view(w http.ResponseWriter, r *http.Request, name string, p page) {
	if err := c.o.Store.RecordAudit(r.Context(), audit.Change{MerchantID: p.Scope.Merchant, Mode: string(p.Scope.Mode),
		Action: "console.viewed", ObjectType: "page", ObjectID: r.URL.Path, Summary: map[string]any{"view": name}}); err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, name, p)
}

// fail shows an error: a client mistake as itself, anything else as a
// generic failure (logged with the request id).
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	msg := "Something went wrong; the request id is in the logs."
	var be *billing.Error
	if asBillingError(err, &be) {
		msg = be.Message
		switch be.Code {
		case billing.ENotFound:
			status = http.StatusNotFound
		case billing.EInvalid:
			status = http.StatusBadRequest
		case billing.EConflict:
			status = http.StatusConflict
		default:
			status = http.StatusUnprocessableEntity
		}
	} else {
		zerolog.Ctx(r.Context()).Error().Err(err).Msg("console")
	}
	c.renderStatus(w, r, status, "error", page{Title: "Error", Error: msg})
}
