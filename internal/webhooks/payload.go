package webhooks

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/billingd/billingd/internal/billing"
)

// EventJSON is the public form of an event: the body of every delivery and
// of GET /v1/events/{id}, so what a receiver gets is what the API shows.
type EventJSON struct {
	ID         string `json:"id"`
	Object     string `json:"object"`
	Type       string `json:"type"`
	Mode       string `json:"mode"`
	ObjectType string `json:"object_type"`
	ObjectID   string `json:"object_id"`
	Data       any    `json:"data"`
	CreatedAt  string `json:"created_at"`
}

// ToEventJSON renders an event.
func ToEventJSON(e billing.Event) EventJSON {
	data := e.Data
	if data == nil {
		data = map[string]any{}
	}
	return EventJSON{ID: e.ID, Object: "event", Type: e.Type, Mode: string(e.Mode), ObjectType: e.ObjectType,
		ObjectID: e.ObjectID, Data: data, CreatedAt: e.CreatedAt.UTC().Format(time.RFC3339)}
}

// Payload is a delivery's body: the event's JSON, compact.
func Payload(e billing.Event) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ToEventJSON(e)); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
