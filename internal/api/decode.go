package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/billingd/billingd/internal/billing"
)

// decodeJSON reads a JSON object body into dst strictly: the content type
// must be JSON, unknown fields and trailing data are refused, and every
// failure is a client error that names the field when it can. An empty body
// decodes as {} so that requests whose fields are all optional may omit it.
func decodeJSON(r *http.Request, dst any) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return &billing.Error{Code: eTooLarge, Reason: "body_too_large",
				Message: fmt.Sprintf("request body exceeds %d bytes", tooLarge.Limit)}
		}
		return &billing.Error{Code: billing.EInvalid, Reason: "body_unreadable", Message: "request body could not be read"}
	}
	if !utf8.Valid(body) {
		// encoding/json would quietly turn bad bytes into U+FFFD and store
		// a mangled name; refuse instead.
		return &billing.Error{Code: billing.EInvalid, Reason: "json_invalid", Message: "request body is not valid UTF-8"}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	} else if err := requireJSONContentType(r); err != nil {
		return err
	}
	if bytes.Contains(body, []byte(`\u0000`)) {
		if param, found := nulInJSON(body); found {
			// Postgres stores no NUL in text or jsonb: refuse it here,
			// naming the field, rather than fail at the INSERT.
			return &billing.Error{Code: billing.EInvalid, Reason: "parameter_invalid", Param: param,
				Message: fmt.Sprintf("%s must not contain NUL (\\u0000)", param)}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if dec.More() {
		return &billing.Error{Code: billing.EInvalid, Reason: "json_invalid", Message: "request body must hold one JSON object"}
	}
	return nil
}

func requireJSONContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return &billing.Error{Code: eUnsupportedMedia, Reason: "unsupported_media_type",
			Message: "request body must be JSON sent with Content-Type: application/json"}
	}
	return nil
}

func decodeError(err error) error {
	var (
		syntax   *json.SyntaxError
		typeErr  *json.UnmarshalTypeError
		already  *billing.Error
		tooLarge *http.MaxBytesError
	)
	switch {
	case errors.As(err, &already):
		return already
	case errors.As(err, &tooLarge):
		return &billing.Error{Code: eTooLarge, Reason: "body_too_large", Message: fmt.Sprintf("request body exceeds %d bytes", tooLarge.Limit)}
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return &billing.Error{Code: billing.EInvalid, Reason: "json_invalid", Message: "request body is not valid JSON"}
	case errors.As(err, &typeErr):
		param := typeErr.Field
		if param == "" {
			return &billing.Error{Code: billing.EInvalid, Reason: "json_invalid", Message: "request body must be a JSON object"}
		}
		return &billing.Error{Code: billing.EInvalid, Reason: "parameter_invalid", Param: param,
			Message: fmt.Sprintf("%s must be %s", param, jsonTypeName(typeErr.Type.Kind().String()))}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &billing.Error{Code: billing.EInvalid, Reason: "parameter_unknown", Param: field,
			Message: fmt.Sprintf("unknown parameter %q", field)}
	}
	return &billing.Error{Code: billing.EInvalid, Reason: "json_invalid", Message: "request body could not be decoded"}
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "map", "struct":
		return "an object"
	case "slice", "array":
		return "an array"
	case "bool":
		return "a boolean"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	}
	return "of another type"
}

// nulInJSON finds a string or object key holding NUL in a JSON document and
// names where it is (metadata.note); a document that does not decode has
// none to find, and is refused by decoding.
func nulInJSON(body []byte) (string, bool) {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return "", false
	}
	var find func(path string, v any) (string, bool)
	find = func(path string, v any) (string, bool) {
		switch v := v.(type) {
		case string:
			return path, strings.ContainsRune(v, 0)
		case []any:
			for i, e := range v {
				if p, ok := find(fmt.Sprintf("%s[%d]", path, i), e); ok {
					return p, true
				}
			}
		case map[string]any:
			for k, e := range v {
				p := k
				if path != "" {
					p = path + "." + k
				}
				if strings.ContainsRune(k, 0) {
					return strings.ReplaceAll(p, "\x00", `\u0000`), true
				}
				if p, ok := find(p, e); ok {
					return p, true
				}
			}
		}
		return "", false
	}
	return find("", v)
}
