package api

import (
	"net/http"
	"regexp"

	"github.com/go-chi/chi/v5"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/store"
	"github.com/billingd/billingd/internal/webhooks"
)

// Events: every state change billingd made, as the object looked right
// after it (data), kept at least 30 days. The same JSON is the body of
// every webhook delivery (webhooks.EventJSON).

// eventTypeFilter bounds ?type=: an event type or "<object>.*".
var eventTypeFilter = regexp.MustCompile(`^[a-z_]{1,40}\.([a-z_]{1,40}|\*)$`)

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	page, err := parsePage(r, billing.PrefixEvent, "type", "object_id", "object_type")
	if err != nil {
		renderError(w, r, err)
		return
	}
	q := r.URL.Query()
	f := store.EventFilter{Page: page, Type: q.Get("type"), ObjectID: q.Get("object_id"), ObjectType: q.Get("object_type")}
	if f.Type != "" && !eventTypeFilter.MatchString(f.Type) {
		renderError(w, r, billing.Invalid("type", `type must be an event type such as payment.paid, or "payment.*" for every payment event`))
		return
	}
	if len(f.ObjectID) > 64 || len(f.ObjectType) > 64 {
		renderError(w, r, billing.Invalid("object_id", "object_id and object_type are at most 64 characters"))
		return
	}
	p := principalFrom(r.Context())
	events, hasMore, err := s.store.ListEvents(r.Context(), p.MerchantID, p.Mode, f)
	if err != nil {
		renderError(w, r, err)
		return
	}
	out := make([]webhooks.EventJSON, len(events))
	for i, e := range events {
		out[i] = webhooks.ToEventJSON(e)
	}
	writeJSON(w, http.StatusOK, newList(out, hasMore))
}

// eventFromPath reads the {id} event of the caller, or renders the error.
func (s *Server) eventFromPath(w http.ResponseWriter, r *http.Request) (billing.Event, bool) {
	id := chi.URLParam(r, "id")
	if !billing.ValidID(billing.PrefixEvent, id) {
		renderError(w, r, billing.NotFound("event", id))
		return billing.Event{}, false
	}
	p := principalFrom(r.Context())
	e, err := s.store.GetEvent(r.Context(), p.MerchantID, p.Mode, id)
	if err != nil {
		renderError(w, r, err)
		return e, false
	}
	return e, true
}

func (s *Server) getEvent(w http.ResponseWriter, r *http.Request) {
	if e, ok := s.eventFromPath(w, r); ok {
		writeJSON(w, http.StatusOK, webhooks.ToEventJSON(e))
	}
}

// listEventDeliveries shows what became of an event's webhooks: one
// delivery per endpoint, each with every attempt.
func (s *Server) listEventDeliveries(w http.ResponseWriter, r *http.Request) {
	if err := onlyParams(r.URL.Query()); err != nil {
		renderError(w, r, err)
		return
	}
	e, ok := s.eventFromPath(w, r)
	if !ok {
		return
	}
	p := principalFrom(r.Context())
	list, err := s.store.DeliveriesOfEvent(r.Context(), p.MerchantID, p.Mode, e.ID)
	if err != nil {
		renderError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(toDeliveriesJSON(list), false))
}

type resendRequest struct {
	WebhookEndpointID *string `json:"webhook_endpoint_id"`
}

// resendEvent queues the event again, to one endpoint or to every
// subscribed one, under the same webhook-id as before.
func (s *Server) resendEvent(w http.ResponseWriter, r *http.Request) {
	var in resendRequest
	if err := decodeJSON(r, &in); err != nil {
		renderError(w, r, err)
		return
	}
	endpointID := ""
	if in.WebhookEndpointID != nil {
		endpointID = *in.WebhookEndpointID
		if !billing.ValidID(billing.PrefixWebhookEndpoint, endpointID) {
			renderError(w, r, billing.Invalid("webhook_endpoint_id", "no such webhook endpoint: %q", endpointID))
			return
		}
	}
	e, ok := s.eventFromPath(w, r)
	if !ok {
		return
	}
	p := principalFrom(r.Context())
	list, err := s.store.ResendEvent(r.Context(), p.MerchantID, p.Mode, e.ID, endpointID)
	if err != nil {
		renderError(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, newList(toDeliveriesJSON(list), false))
}

type deliveryJSON struct {
	ID                string        `json:"id"`
	Object            string        `json:"object"`
	EventID           string        `json:"event_id"`
	WebhookEndpointID string        `json:"webhook_endpoint_id"`
	State             string        `json:"state"`
	AttemptCount      int           `json:"attempt_count"`
	NextAttemptAt     *string       `json:"next_attempt_at"`
	LastStatusCode    *int          `json:"last_status_code"`
	LastError         *string       `json:"last_error"`
	DeliveredAt       *string       `json:"delivered_at"`
	CreatedAt         string        `json:"created_at"`
	UpdatedAt         string        `json:"updated_at"`
	Attempts          []attemptJSON `json:"attempts"`
}

type attemptJSON struct {
	ID           string  `json:"id"`
	Object       string  `json:"object"`
	Attempt      int     `json:"attempt"`
	URL          string  `json:"url"`
	Outcome      string  `json:"outcome"`
	StatusCode   *int    `json:"status_code"`
	Error        *string `json:"error"`
	ResponseBody *string `json:"response_body"`
	DurationMS   int64   `json:"duration_ms"`
	CreatedAt    string  `json:"created_at"`
}

func toDeliveriesJSON(list []billing.WebhookDelivery) []deliveryJSON {
	out := make([]deliveryJSON, len(list))
	for i, d := range list {
		out[i] = deliveryJSON{ID: d.ID, Object: "webhook_delivery", EventID: d.EventID, WebhookEndpointID: d.EndpointID,
			State: d.State, AttemptCount: d.AttemptCount, NextAttemptAt: optionalTimestamp(d.NextAttemptAt),
			LastStatusCode: d.LastStatusCode, LastError: d.LastError, DeliveredAt: optionalTimestamp(d.DeliveredAt),
			CreatedAt: timestamp(d.CreatedAt), UpdatedAt: timestamp(d.UpdatedAt), Attempts: []attemptJSON{}}
		for _, a := range d.Attempts {
			out[i].Attempts = append(out[i].Attempts, attemptJSON{ID: a.ID, Object: "webhook_attempt", Attempt: a.Attempt,
				URL: a.URL, Outcome: a.Outcome, StatusCode: a.StatusCode, Error: a.Error, ResponseBody: a.ResponseBody,
				DurationMS: a.Duration.Milliseconds(), CreatedAt: timestamp(a.CreatedAt)})
		}
	}
	return out
}
