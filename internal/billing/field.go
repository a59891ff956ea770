package billing

import (
	"bytes"
	"encoding/json"
)

// Field is an optional, nullable input field, for partial updates where
// "absent" (leave as is), null (clear) and a value (set) differ.
type Field[T any] struct {
	Present bool // the field appeared in the input
	Null    bool // it was null
	Value   T
}

// Set returns a Field holding v.
func Set[T any](v T) Field[T] { return Field[T]{Present: true, Value: v} }

// UnmarshalJSON records presence; encoding/json calls it for null too.
func (f *Field[T]) UnmarshalJSON(b []byte) error {
	f.Present = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		f.Null = true
		return nil
	}
	return json.Unmarshal(b, &f.Value)
}

// Ptr returns nil for an absent or null field, else a pointer to the value.
func (f Field[T]) Ptr() *T {
	if !f.Present || f.Null {
		return nil
	}
	v := f.Value
	return &v
}
