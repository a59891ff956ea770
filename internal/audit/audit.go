// Package audit says who is making a change. Whoever authenticates a caller
// (the merchant API, the admin API, the console, the CLI) puts an Actor in
// the request's context; the store writes an audit row with that actor in
// the transaction of every change it makes while one is present. Work
// without an actor (jobs, PG notifications) is the system's own and is
// recorded by its events instead.
package audit

import (
	"context"
	"encoding/json"
	"time"
)

// Actor types.
const (
	ActorAdminToken = "admin_token"
	ActorCLI        = "cli"
	ActorConsole    = "console"
	ActorAPIKey     = "api_key"
)

// Actor is who asks for a change, and from where. ID is never a secret: an
// API key's id, an operator's name, "admin".
type Actor struct {
	Type      string
	ID        string
	SourceIP  string
	RequestID string
}

type actorKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the context's actor, if any.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok && a.Type != ""
}

// Event is one audit row.
type Event struct {
	ID         string         `json:"id"`
	CreatedAt  time.Time      `json:"created_at"`
	ActorType  string         `json:"actor_type"`
	ActorID    string         `json:"actor_id"`
	SourceIP   string         `json:"source_ip"`
	RequestID  string         `json:"request_id"`
	MerchantID string         `json:"merchant_id"`
	Mode       string         `json:"mode"`
	Action     string         `json:"action"`
	ObjectType string         `json:"object_type"`
	ObjectID   string         `json:"object_id"`
	Summary    map[string]any `json:"summary"`
}

// Change describes a change for the log; the store adds the actor.
type Change struct {
	MerchantID string
	Mode       string
	Action     string
	ObjectType string
	ObjectID   string
	// Summary is passed through Summarize: only allowed fields survive.
	Summary any
}

// summaryFields are the only fields a summary keeps: states, amounts and
// references. Everything else — card numbers, names, phone numbers, birth
// dates, credentials, secrets, metadata a merchant filled with who knows
// what — is dropped, so no audit row can leak it.
var summaryFields = map[string]bool{
	"status": true, "amount": true, "tax_free": true, "currency": true, "refunded_amount": true,
	"reason": true, "failure_code": true, "provider": true, "pg": true, "payment_id": true,
	"customer_id": true, "billing_key_id": true, "subscription_id": true, "provider_payment_id": true,
	"interval": true, "interval_count": true, "cancel_at_period_end": true, "retry_count": true,
	"is_default": true, "url": true, "enabled_events": true, "kind": true, "mode": true,
	"endpoint_id": true, "event_id": true, "fields": true, "hint": true, "base_url": true,
	"scheduled_at": true, "view": true, "status_reason": true, "test_time": true,
}

// maxSummaryString caps any one string a summary keeps.
const maxSummaryString = 200

// summarizer is an object that says itself what the log may keep of it,
// cheaper than the JSON round trip below (billing.Payment does).
type summarizer interface{ AuditSummary() map[string]any }

// Summarize reduces v (a struct or a map, through its JSON form) to the
// allowed fields. It never fails: what cannot be read is left out.
func Summarize(v any) map[string]any {
	if s, ok := v.(summarizer); ok {
		m := s.AuditSummary()
		for k, val := range m {
			if str, isString := val.(string); !summaryFields[k] || isString && len(str) > maxSummaryString {
				delete(m, k)
			}
		}
		return m
	}
	out := map[string]any{}
	if v == nil {
		return out
	}
	b, err := json.Marshal(v)
	if err != nil {
		return out
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return out
	}
	for k, val := range m {
		if !summaryFields[k] || val == nil {
			continue
		}
		switch x := val.(type) {
		case string:
			if len(x) > maxSummaryString {
				x = x[:maxSummaryString]
			}
			out[k] = x
		case float64, bool:
			out[k] = x
		case []any:
			var keep []any
			for _, e := range x {
				if s, ok := e.(string); ok && len(s) <= maxSummaryString {
					keep = append(keep, s)
				}
			}
			out[k] = keep
		}
	}
	return out
}
