package api

import (
	"encoding/json"
	"net/http"
	"time"
)

// writeJSON writes v with status. Encoding our own response types cannot
// fail except on a broken connection, which the client will notice.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeRaw writes a JSON body rendered earlier (a stored answer).
func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// list is the envelope of every list response.
type list[T any] struct {
	Object  string `json:"object"`
	Data    []T    `json:"data"`
	HasMore bool   `json:"has_more"`
}

func newList[T any](data []T, hasMore bool) list[T] {
	if data == nil {
		data = []T{}
	}
	return list[T]{Object: "list", Data: data, HasMore: hasMore}
}

// timestamp renders times as RFC 3339 in UTC.
func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func optionalTimestamp(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := timestamp(*t)
	return &s
}
