package api

import (
	"context"
	"net/http"
	"time"

	"github.com/billingd/billingd/internal/audit"
	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/store"
)

// withActor returns r's context naming who asks for the audit log, with the
// request's id and client address (trusted proxies only, see cors.go).
func withActor(r *http.Request, typ, id string) context.Context {
	a := audit.Actor{Type: typ, ID: id, RequestID: requestID(r.Context())}
	if ip := clientIP(r); ip != nil {
		a.SourceIP = ip.String()
	}
	return audit.WithActor(r.Context(), a)
}

type auditEventJSON struct {
	audit.Event
	Object    string `json:"object"`
	CreatedAt string `json:"created_at"`
}

// listAuditEvents serves GET /admin/v1/audit_events.
func (s *Server) listAuditEvents(w http.ResponseWriter, r *http.Request) {
	page, err := parsePage(r, store.PrefixAudit, "merchant_id", "object_id", "actor_id", "action", "created_after", "created_before")
	if err != nil {
		renderError(w, r, err)
		return
	}
	q := r.URL.Query()
	f := store.AuditFilter{Page: page, MerchantID: q.Get("merchant_id"), ObjectID: q.Get("object_id"),
		ActorID: q.Get("actor_id"), Action: q.Get("action")}
	for param, dst := range map[string]**time.Time{"created_after": &f.Since, "created_before": &f.Until} {
		if raw := q.Get(param); raw != "" {
			t, err := time.Parse(time.RFC3339, raw)
			if err != nil {
				renderError(w, r, billing.Invalid(param, "%s must be an RFC 3339 time", param))
				return
			}
			*dst = &t
		}
	}
	list, more, err := s.admin.ListAuditEvents(r.Context(), f)
	if err != nil {
		renderError(w, r, err)
		return
	}
	out := make([]auditEventJSON, len(list))
	for i, e := range list {
		if e.Summary == nil {
			e.Summary = map[string]any{}
		}
		out[i] = auditEventJSON{Event: e, Object: "audit_event", CreatedAt: timestamp(e.CreatedAt)}
	}
	writeJSON(w, http.StatusOK, newList(out, more))
}

// ForgetAPIKey drops a revoked key from this replica's cache at once, as
// the admin API's revocation does; the console revokes through it too.
func (s *Server) ForgetAPIKey(id string) { s.apiKeys.forget(id) }
