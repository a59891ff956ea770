package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/billingd/billingd/internal/audit"
	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/payments"
	"github.com/billingd/billingd/internal/store"
)

// action is one thing an operator can do, with the form fields it takes.
type action struct {
	Title  string
	Fields []string
	// Describe says in words what confirming will do.
	Describe func(f url.Values) string
	// Do performs it and returns where to go next.
	Do func(c *Console, r *http.Request, sc scope, f url.Values, idem payments.Idempotency) (string, error)
}

var actions = map[string]action{
	"refund": {Title: "Refund a payment", Fields: []string{"payment", "amount", "reason"},
		Describe: func(f url.Values) string {
			amount := "the whole remaining balance"
			if n, err := strconv.ParseInt(f.Get("amount"), 10, 64); err == nil && n > 0 {
				amount = won(n)
			}
			return fmt.Sprintf("Refund %s of payment %s, reason %q. The PG is asked at once; this cannot be undone.", amount, f.Get("payment"), f.Get("reason"))
		},
		Do: func(c *Console, r *http.Request, sc scope, f url.Values, idem payments.Idempotency) (string, error) {
			var amount int64
			if raw := strings.ReplaceAll(strings.TrimSpace(f.Get("amount")), ",", ""); raw != "" {
				n, err := strconv.ParseInt(raw, 10, 64)
				if err != nil || n <= 0 {
					return "", billing.Invalid("amount", "amount must be a whole number of won, or empty for all that is left")
				}
				amount = n
			}
			rf, _, err := c.o.Payments.Refund(r.Context(), caller(sc), f.Get("payment"), payments.RefundInput{Amount: amount, Reason: f.Get("reason")}, idem)
			if err != nil {
				return "", err
			}
			return sc.URL("/console/payments/"+f.Get("payment"), "done", fmt.Sprintf("Refund %s of %s: %s.", rf.ID, won(rf.Amount), rf.Status)), nil
		}},
	"reconcile": {Title: "Ask the PG again", Fields: []string{"payment"},
		Describe: func(f url.Values) string {
			return fmt.Sprintf("Ask the PG now what became of payment %s, and record its answer.", f.Get("payment"))
		},
		Do: func(c *Console, r *http.Request, sc scope, f url.Values, _ payments.Idempotency) (string, error) {
			p, err := c.o.Store.GetPayment(r.Context(), sc.Merchant, sc.Mode, f.Get("payment"))
			if err != nil {
				return "", err
			}
			done := "The PG's answer is recorded."
			p, err = c.o.Payments.Reconcile(r.Context(), p.ID)
			if errors.Is(err, payments.ErrStillUnknown) {
				done, err = "The PG still does not say; billingd keeps asking on its schedule.", nil
			}
			if err != nil {
				return "", err
			}
			return sc.URL("/console/payments/"+p.ID, "done", done+" Status: "+string(p.Status)+"."), nil
		}},
	"cancel_subscription": {Title: "Cancel a subscription", Fields: []string{"subscription", "at_period_end"},
		Describe: func(f url.Values) string {
			if f.Get("at_period_end") == "true" {
				return fmt.Sprintf("Cancel subscription %s at the end of its current period.", f.Get("subscription"))
			}
			return fmt.Sprintf("Cancel subscription %s now: it is never billed again.", f.Get("subscription"))
		},
		Do: func(c *Console, r *http.Request, sc scope, f url.Values, _ payments.Idempotency) (string, error) {
			sub, err := c.o.Subscriptions.Cancel(r.Context(), caller(sc), f.Get("subscription"), f.Get("at_period_end") == "true")
			return subscriptionDone(sc, sub, err)
		}},
	"pause_subscription": {Title: "Pause a subscription", Fields: []string{"subscription"},
		Describe: func(f url.Values) string {
			return fmt.Sprintf("Pause subscription %s: no period is billed until it is resumed.", f.Get("subscription"))
		},
		Do: func(c *Console, r *http.Request, sc scope, f url.Values, _ payments.Idempotency) (string, error) {
			sub, err := c.o.Subscriptions.Pause(r.Context(), caller(sc), f.Get("subscription"))
			return subscriptionDone(sc, sub, err)
		}},
	"resume_subscription": {Title: "Resume a subscription", Fields: []string{"subscription"},
		Describe: func(f url.Values) string {
			return fmt.Sprintf("Resume subscription %s: billing starts again.", f.Get("subscription"))
		},
		Do: func(c *Console, r *http.Request, sc scope, f url.Values, _ payments.Idempotency) (string, error) {
			sub, err := c.o.Subscriptions.Resume(r.Context(), caller(sc), f.Get("subscription"))
			return subscriptionDone(sc, sub, err)
		}},
	"resend_webhook": {Title: "Resend a webhook", Fields: []string{"event", "endpoint"},
		Describe: func(f url.Values) string {
			return fmt.Sprintf("Send event %s to endpoint %s again (the same webhook-id, so the receiver can tell).", f.Get("event"), f.Get("endpoint"))
		},
		Do: func(c *Console, r *http.Request, sc scope, f url.Values, _ payments.Idempotency) (string, error) {
			ds, err := c.o.Store.ResendEvent(r.Context(), sc.Merchant, sc.Mode, f.Get("event"), f.Get("endpoint"))
			if err != nil {
				return "", err
			}
			return sc.URL("/console/webhooks", "done", fmt.Sprintf("Event %s queued again for %d endpoint(s).", f.Get("event"), len(ds))), nil
		}},
	"enable_endpoint": {Title: "Re-enable a webhook endpoint", Fields: []string{"endpoint"},
		Describe: func(f url.Values) string {
			return fmt.Sprintf("Enable webhook endpoint %s again: new events are delivered to it.", f.Get("endpoint"))
		},
		Do: func(c *Console, r *http.Request, sc scope, f url.Values, _ payments.Idempotency) (string, error) {
			in := billing.WebhookEndpointInput{Status: billing.Set(billing.EndpointEnabled)}
			e, err := c.o.Store.UpdateWebhookEndpoint(r.Context(), sc.Merchant, sc.Mode, f.Get("endpoint"),
				func(e *billing.WebhookEndpoint) error { return in.Apply(e, false) })
			if err != nil {
				return "", err
			}
			return sc.URL("/console/webhooks", "done", fmt.Sprintf("Endpoint %s is %s.", e.ID, e.Status)), nil
		}},
	"revoke_key": {Title: "Revoke an API key", Fields: []string{"key"},
		Describe: func(f url.Values) string {
			return fmt.Sprintf("Revoke API key %s: every request with it fails from now on (other replicas within the key cache's TTL).", f.Get("key"))
		},
		Do: func(c *Console, r *http.Request, sc scope, f url.Values, _ payments.Idempotency) (string, error) {
			keys, err := c.o.Admin.ListAPIKeys(r.Context(), sc.Merchant)
			if err != nil {
				return "", err
			}
			if !slices.ContainsFunc(keys, func(k billing.APIKey) bool { return k.ID == f.Get("key") }) {
				return "", billing.NotFound("api key", f.Get("key"))
			}
			k, err := c.o.Admin.RevokeAPIKey(r.Context(), f.Get("key"))
			if err != nil {
				return "", err
			}
			if c.o.KeyRevoked != nil {
				c.o.KeyRevoked(k.ID)
			}
			return sc.URL("/console/merchants", "done", fmt.Sprintf("Key %s (…%s) is revoked.", k.ID, k.Hint)), nil
		}},
}

// actionObject names what an action acts on: a resend names its event
// (the endpoint is in the summary).
func actionObject(f url.Values) (string, string) {
	for _, kv := range [][2]string{{"payment", "payment"}, {"subscription", "subscription"}, {"event", "event"},
		{"endpoint", "webhook_endpoint"}, {"key", "api_key"}} {
		if id := f.Get(kv[0]); id != "" {
			return kv[1], id
		}
	}
	return "", ""
}

// actionSummary keeps an action's non-empty amounts and references.
func actionSummary(f url.Values) map[string]any {
	out := map[string]any{}
	for field, name := range map[string]string{"amount": "amount", "reason": "reason", "endpoint": "endpoint_id", "event": "event_id"} {
		if v := f.Get(field); v != "" {
			out[name] = v
		}
	}
	return out
}

func caller(sc scope) payments.Caller {
	return payments.Caller{MerchantID: sc.Merchant, Mode: sc.Mode, Secret: true}
}

func subscriptionDone(sc scope, sub billing.Subscription, err error) (string, error) {
	if err != nil {
		return "", err
	}
	return sc.URL("/console/subscriptions", "done", fmt.Sprintf("Subscription %s is %s.", sub.ID, sub.Status)), nil
}

// fieldsOf keeps an action's own fields from a query or form.
func fieldsOf(a action, v url.Values) url.Values {
	f := url.Values{}
	for _, name := range a.Fields {
		if val := strings.TrimSpace(v.Get(name)); val != "" {
			f.Set(name, val)
		}
	}
	return f
}

type confirmation struct {
	Name, Title, Description, IdempotencyKey string
	Fields                                   url.Values
}

// confirmAction shows what an action will do, with a form that performs it
// under a fresh idempotency key: a double submit or a reload runs it once.
func (c *Console) confirmAction(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "action")
	a, ok := actions[name]
	sc, err := c.scopeOf(r)
	if err != nil || !ok {
		if err == nil {
			err = billing.NotFound("action", name)
		}
		c.fail(w, r, err)
		return
	}
	f := fieldsOf(a, r.URL.Query())
	c.view(w, r, "confirm", page{Title: a.Title, Scope: sc, Data: confirmation{Name: name, Title: a.Title,
		Description: a.Describe(f), IdempotencyKey: randomToken()[:32], Fields: f}})
}

const idempotencyLease = 2 * time.Minute

func (c *Console) performAction(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "action")
	a, ok := actions[name]
	sc, err := c.scopeOf(r)
	if err != nil || !ok {
		if err == nil {
			err = billing.NotFound("action", name)
		}
		c.fail(w, r, err)
		return
	}
	idemKey := r.PostFormValue("idempotency_key")
	if len(idemKey) < 16 || len(idemKey) > 64 || sc.Merchant == "" {
		c.fail(w, r, billing.Invalid("idempotency_key", "the form has no idempotency key; open the action again"))
		return
	}
	f := fieldsOf(a, r.PostForm)
	key := store.IdempotencyKey{MerchantID: sc.Merchant, Mode: sc.Mode, Key: "console:" + idemKey}
	fp, _ := c.o.Store.Fingerprint([]byte(name + "\x00" + f.Encode()))
	claim, err := c.o.Store.ClaimIdempotencyKey(r.Context(), key, store.IdempotentRequest{Method: http.MethodPost,
		Path: "/console/actions/" + name, Fingerprint: fp}, idempotencyLease)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	switch claim.Outcome {
	case store.ClaimCompleted:
		http.Redirect(w, r, string(claim.ResponseBody), http.StatusSeeOther)
		return
	case store.ClaimInFlight:
		c.fail(w, r, &billing.Error{Code: billing.EConflict, Message: "This action is still running; reload in a moment."})
		return
	case store.ClaimMismatch:
		c.fail(w, r, &billing.Error{Code: billing.EIdempotency, Message: "This form was already used for something else; open the action again."})
		return
	}
	next, err := a.Do(c, r, sc, f, payments.Idempotency{Key: key, RecoveryPoint: claim.RecoveryPoint})
	if err != nil {
		// The key is released, its recovery point kept, so confirming
		// again retries (and a refund resumes where it stopped).
		_ = c.o.Store.ReleaseIdempotencyKey(r.Context(), key)
		c.fail(w, r, err)
		return
	}
	// The change wrote its own audit rows with it; this one records the
	// operator's request, also when the change turned out to be none (the
	// PG had answered already, a resend to the same endpoint).
	objType, objID := actionObject(f)
	if err := c.o.Store.RecordAudit(r.Context(), audit.Change{MerchantID: sc.Merchant, Mode: string(sc.Mode), Action: "console." + name,
		ObjectType: objType, ObjectID: objID, Summary: actionSummary(f)}); err != nil {
		c.fail(w, r, err)
		return
	}
	if err := c.o.Store.CompleteIdempotencyKey(r.Context(), key, http.StatusSeeOther, []byte(next)); err != nil {
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}
