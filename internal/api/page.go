package api

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/store"
)

// Page sizes, as Stripe's: merchants already know them.
const (
	defaultPageLimit = 10
	maxPageLimit     = 100
)

// parsePage reads ?limit= and ?starting_after= for a list of objects whose
// ids carry prefix, and refuses any query parameter but those and the
// list's filters.
func parsePage(r *http.Request, prefix string, filters ...string) (store.Page, error) {
	q := r.URL.Query()
	p := store.Page{Limit: defaultPageLimit, StartingAfter: q.Get("starting_after")}
	if err := onlyParams(q, append(filters, "limit", "starting_after")...); err != nil {
		return p, err
	}
	if raw := q.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxPageLimit {
			return p, billing.Invalid("limit", "limit must be a whole number from 1 to %d", maxPageLimit)
		}
		p.Limit = n
	}
	if p.StartingAfter != "" && !billing.ValidID(prefix, p.StartingAfter) {
		return p, billing.Invalid("starting_after", "starting_after must be an id from a previous page")
	}
	return p, nil
}

// onlyParams refuses a query parameter not in known: a filter the list does
// not have (a typo, or ?subscription_id= on payments) would otherwise be
// ignored silently and the caller handed every object instead. It refuses
// too a value that is not text (NUL, invalid UTF-8), which no filter can
// match and Postgres would refuse as a query argument.
func onlyParams(q url.Values, known ...string) error {
	names := slices.Sorted(maps.Keys(q)) // the same one named every time
	for _, name := range names {
		if !slices.Contains(known, name) {
			takes := "no query parameters"
			if len(known) > 0 {
				takes = strings.Join(known, ", ")
			}
			return &billing.Error{Code: billing.EInvalid, Reason: "parameter_unknown", Param: name,
				Message: fmt.Sprintf("unknown query parameter %q; this list takes %s", name, takes)}
		}
		if slices.ContainsFunc(q[name], func(v string) bool { return !storableText(v) }) {
			return billing.Invalid(name, "%s must be text without control characters", name)
		}
	}
	return nil
}
