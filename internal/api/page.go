package api

import (
	"net/http"
	"strconv"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/store"
)

// Page sizes, as Stripe's: merchants already know them.
const (
	defaultPageLimit = 10
	maxPageLimit     = 100
)

// parsePage reads ?limit= and ?starting_after= for a list of objects whose
// ids carry prefix.
func parsePage(r *http.Request, prefix string) (store.Page, error) {
	q := r.URL.Query()
	p := store.Page{Limit: defaultPageLimit, StartingAfter: q.Get("starting_after")}
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
