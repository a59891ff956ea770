package console

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/billingd/billingd/internal/audit"
	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/store"
)

const pageSize = 25

func asBillingError(err error, be **billing.Error) bool {
	return errors.As(err, be) && (*be).Code != billing.EInternal
}

// scopeOf reads ?merchant= and ?mode=; without a merchant, the newest one.
func (c *Console) scopeOf(r *http.Request) (scope, error) {
	q := r.URL.Query()
	s := scope{Merchant: q.Get("merchant"), Mode: billing.ModeTest}
	if q.Get("mode") == string(billing.ModeLive) {
		s.Mode = billing.ModeLive
	}
	list, _, err := c.o.Store.ListMerchants(r.Context(), store.Page{Limit: 100})
	if err != nil {
		return s, err
	}
	s.Merchants = list
	if s.Merchant == "" && len(list) > 0 {
		s.Merchant = list[0].ID
	}
	if s.Merchant != "" && !slices.ContainsFunc(list, func(m billing.Merchant) bool { return m.ID == s.Merchant }) {
		m, err := c.o.Admin.GetMerchant(r.Context(), s.Merchant)
		if err != nil {
			return s, err
		}
		s.Merchants = append(s.Merchants, m)
	}
	return s, nil
}

// pageOf reads ?after= (the cursor).
func pageOf(r *http.Request) store.Page {
	return store.Page{Limit: pageSize, StartingAfter: r.URL.Query().Get("after")}
}

func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	sc, err := c.scopeOf(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	a, err := c.o.Store.ConsoleAttention(r.Context(), sc.Merchant, sc.Mode, time.Now().Add(-c.o.UnknownAfter), 20)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.view(w, r, "home", page{Title: "Needs attention", Nav: "home", Scope: sc, Data: a})
}

func (c *Console) paymentsPage(w http.ResponseWriter, r *http.Request) {
	sc, err := c.scopeOf(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	status := billing.PaymentStatus(r.URL.Query().Get("status"))
	if status != "" && !slices.Contains(billing.PaymentStatuses, status) {
		status = ""
	}
	pg := pageOf(r)
	list, more, err := c.o.Store.SearchPayments(r.Context(), sc.Merchant, sc.Mode, q, status, pg)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	p := page{Title: "Payments", Nav: "payments", Scope: sc,
		Data: struct {
			Q        string
			Status   billing.PaymentStatus
			Statuses []billing.PaymentStatus
			Payments []billing.Payment
		}{q, status, billing.PaymentStatuses, list}}
	if more {
		p.Next = sc.URL("/console/payments", "q", q, "status", string(status), "after", list[len(list)-1].ID)
	}
	c.view(w, r, "payments", p)
}

// eventEntry is an event on a payment's timeline with its deliveries.
type eventEntry struct {
	Event      billing.Event
	Deliveries []billing.WebhookDelivery
}

func (c *Console) paymentPage(w http.ResponseWriter, r *http.Request) {
	sc, err := c.scopeOf(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	ctx := r.Context()
	p, err := c.o.Store.GetPayment(ctx, sc.Merchant, sc.Mode, chi.URLParam(r, "id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	refunds, err := c.o.Store.RefundsOf(ctx, p.ID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	objects := []string{p.ID}
	for _, rf := range refunds {
		objects = append(objects, rf.ID)
	}
	var timeline []eventEntry
	for _, id := range objects {
		events, err := c.o.Store.EventsFor(ctx, sc.Merchant, sc.Mode, id)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		for _, e := range events {
			ds, err := c.o.Store.DeliveriesOfEvent(ctx, sc.Merchant, sc.Mode, e.ID)
			if err != nil {
				c.fail(w, r, err)
				return
			}
			timeline = append(timeline, eventEntry{Event: e, Deliveries: ds})
		}
	}
	slices.SortFunc(timeline, func(a, b eventEntry) int { return strings.Compare(a.Event.ID, b.Event.ID) })
	notes, err := c.o.Store.PGNotificationsOf(ctx, p.ID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.view(w, r, "payment", page{Title: "Payment " + p.ID, Nav: "payments", Scope: sc, Notice: r.URL.Query().Get("done"),
		Data: struct {
			Payment       billing.Payment
			Refunds       []billing.Refund
			Timeline      []eventEntry
			Notifications []store.PGNotification
			Refundable    bool
			Unknown       bool
		}{p, refunds, timeline, notes, p.Status.Refundable() && p.Refundable() > 0, p.Status == billing.PaymentUnknown || p.Status == billing.PaymentProcessing}})
}

func (c *Console) customersPage(w http.ResponseWriter, r *http.Request) {
	sc, err := c.scopeOf(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	f := store.CustomerFilter{Page: pageOf(r)}
	if strings.Contains(q, "@") {
		f.Email = q
	} else {
		f.ExternalID = q
	}
	if strings.HasPrefix(q, billing.PrefixCustomer) {
		http.Redirect(w, r, sc.URL("/console/customers/"+q), http.StatusSeeOther)
		return
	}
	list, more, err := c.o.Store.ListCustomers(r.Context(), sc.Merchant, sc.Mode, f)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	p := page{Title: "Customers", Nav: "customers", Scope: sc, Data: struct {
		Q         string
		Customers []billing.Customer
	}{q, list}}
	if more {
		p.Next = sc.URL("/console/customers", "q", q, "after", list[len(list)-1].ID)
	}
	c.view(w, r, "customers", p)
}

func (c *Console) customerPage(w http.ResponseWriter, r *http.Request) {
	sc, err := c.scopeOf(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	ctx := r.Context()
	cu, err := c.o.Store.GetCustomer(ctx, sc.Merchant, sc.Mode, chi.URLParam(r, "id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	keys, _, err := c.o.Store.ListBillingKeys(ctx, sc.Merchant, sc.Mode, store.BillingKeyFilter{Page: store.Page{Limit: 50}, CustomerID: cu.ID})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	certs, err := c.o.Store.CertificationsOf(ctx, sc.Merchant, sc.Mode, cu.ID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	pays, _, err := c.o.Store.SearchPayments(ctx, sc.Merchant, sc.Mode, cu.ID, "", store.Page{Limit: 10})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.view(w, r, "customer", page{Title: "Customer " + cu.ID, Nav: "customers", Scope: sc, Data: struct {
		Customer       billing.Customer
		Keys           []billing.BillingKey
		Certifications []billing.Certification
		Payments       []billing.Payment
	}{cu, keys, certs, pays}})
}

// identityPage shows a certification's identity: a POST (CSRF-checked, never
// prefetched or cached) written to the audit log before it is shown.
func (c *Console) identityPage(w http.ResponseWriter, r *http.Request) {
	sc, err := c.scopeOf(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	cert, err := c.o.Store.GetCertification(r.Context(), sc.Merchant, sc.Mode, chi.URLParam(r, "id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if err := c.o.Store.RecordAudit(r.Context(), audit.Change{MerchantID: sc.Merchant, Mode: string(sc.Mode),
		Action: "certification.identity_viewed", ObjectType: "certification", ObjectID: cert.ID}); err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, "identity", page{Title: "Identity of " + cert.ID, Nav: "customers", Scope: sc, Data: cert})
}

func (c *Console) subscriptionsPage(w http.ResponseWriter, r *http.Request) {
	sc, err := c.scopeOf(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	f := store.SubscriptionFilter{Page: pageOf(r), CustomerID: strings.TrimSpace(q.Get("customer")), Status: billing.SubscriptionStatus(q.Get("status"))}
	list, more, err := c.o.Store.ListSubscriptions(r.Context(), sc.Merchant, sc.Mode, f)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	p := page{Title: "Subscriptions", Nav: "subscriptions", Scope: sc, Notice: q.Get("done"), Data: struct {
		Customer      string
		Status        string
		Subscriptions []billing.Subscription
	}{f.CustomerID, string(f.Status), list}}
	if more {
		p.Next = sc.URL("/console/subscriptions", "customer", f.CustomerID, "status", string(f.Status), "after", list[len(list)-1].ID)
	}
	c.view(w, r, "subscriptions", p)
}

func (c *Console) webhooksPage(w http.ResponseWriter, r *http.Request) {
	sc, err := c.scopeOf(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	endpoints, _, err := c.o.Store.ListWebhookEndpoints(r.Context(), sc.Merchant, sc.Mode, store.Page{Limit: 100})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	failing := q.Get("failing") == "1"
	deliveries, more, err := c.o.Store.ListWebhookDeliveries(r.Context(), sc.Merchant, sc.Mode, failing, pageOf(r))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	p := page{Title: "Webhooks", Nav: "webhooks", Scope: sc, Notice: q.Get("done"), Data: struct {
		Endpoints  []billing.WebhookEndpoint
		Deliveries []store.DeliveryRow
		Failing    bool
	}{endpoints, deliveries, failing}}
	if more {
		f := ""
		if failing {
			f = "1"
		}
		p.Next = sc.URL("/console/webhooks", "failing", f, "after", deliveries[len(deliveries)-1].ID)
	}
	c.view(w, r, "webhooks", p)
}

// accountView is a provider account as the console shows it: credentials
// masked, the webhook URL to give the PG in full.
type accountView struct {
	billing.ProviderAccount
	Masked     map[string]string
	WebhookURL string
}

func (c *Console) merchantsPage(w http.ResponseWriter, r *http.Request) {
	sc, err := c.scopeOf(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	var keys []billing.APIKey
	var accounts []accountView
	if sc.Merchant != "" {
		if keys, err = c.o.Admin.ListAPIKeys(r.Context(), sc.Merchant); err != nil {
			c.fail(w, r, err)
			return
		}
		list, err := c.o.Admin.ListProviderAccounts(r.Context(), sc.Merchant)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		for _, a := range list {
			v := accountView{ProviderAccount: a, Masked: map[string]string{}, WebhookURL: c.o.Admin.WebhookURL(a)}
			for k, val := range a.Credentials {
				v.Masked[k] = mask(val)
			}
			v.Credentials = nil
			accounts = append(accounts, v)
		}
	}
	c.view(w, r, "merchants", page{Title: "Merchants", Nav: "merchants", Scope: sc, Notice: r.URL.Query().Get("done"), Data: struct {
		Keys     []billing.APIKey
		Accounts []accountView
	}{keys, accounts}})
}

func (c *Console) auditPage(w http.ResponseWriter, r *http.Request) {
	sc, err := c.scopeOf(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	f := store.AuditFilter{Page: pageOf(r), ObjectID: strings.TrimSpace(q.Get("object")), ActorID: strings.TrimSpace(q.Get("actor")),
		Action: strings.TrimSpace(q.Get("action"))}
	if q.Get("all") != "1" {
		f.MerchantID = sc.Merchant
	}
	for param, dst := range map[string]**time.Time{"since": &f.Since, "until": &f.Until} {
		if raw := q.Get(param); raw != "" {
			t, err := time.ParseInLocation("2006-01-02", raw, kst)
			if err != nil {
				c.fail(w, r, billing.Invalid(param, "%s must be a date like 2026-12-01", param))
				return
			}
			if param == "until" {
				t = t.AddDate(0, 0, 1)
			}
			*dst = &t
		}
	}
	list, more, err := c.o.Admin.ListAuditEvents(r.Context(), f)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	p := page{Title: "Audit log", Nav: "audit", Scope: sc, Data: struct {
		Object, Actor, Action, Since, Until, All string
		Events                                   []audit.Event
	}{f.ObjectID, f.ActorID, f.Action, q.Get("since"), q.Get("until"), q.Get("all"), list}}
	if more {
		p.Next = sc.URL("/console/audit", "object", f.ObjectID, "actor", f.ActorID, "action", f.Action, "since", q.Get("since"),
			"until", q.Get("until"), "all", q.Get("all"), "after", list[len(list)-1].ID)
	}
	c.view(w, r, "audit", p)
}
