package billing

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCustomerInputApply(t *testing.T) {
	t.Parallel()
	decode := func(t *testing.T, s string) CustomerInput {
		t.Helper()
		var in CustomerInput
		if err := json.Unmarshal([]byte(s), &in); err != nil {
			t.Fatal(err)
		}
		return in
	}
	tests := []struct {
		name  string
		input string
		param string // "" means valid
		check func(t *testing.T, c Customer)
	}{
		{name: "Empty", input: `{}`},
		{name: "PhoneNormalised", input: `{"phone":"010-1234 5678"}`, check: func(t *testing.T, c Customer) {
			if *c.Phone != "01012345678" {
				t.Fatalf("phone %q", *c.Phone)
			}
		}},
		{name: "InternationalPhone", input: `{"phone":"+82 10-1234-5678"}`},
		{name: "NameTrimmed", input: `{"name":"  김철수 "}`, check: func(t *testing.T, c Customer) {
			if *c.Name != "김철수" {
				t.Fatalf("name %q", *c.Name)
			}
		}},
		{name: "BadEmail", input: `{"email":"a@b"}`, param: "email"},
		{name: "EmailWithName", input: `{"email":"Kim <kim@example.com>"}`, param: "email"},
		{name: "ShortPhone", input: `{"phone":"123"}`, param: "phone"},
		{name: "PhoneLetters", input: `{"phone":"010-CALL-ME"}`, param: "phone"},
		{name: "OldBirth", input: `{"birth":"1899-12-31"}`, param: "birth"},
		{name: "ControlChar", input: `{"name":"a\u0007b"}`, param: "name"},
		{name: "Gender", input: `{"gender":"female"}`},
		{name: "BadGender", input: `{"gender":"F"}`, param: "gender"},
		{name: "TooManyMetadataKeys", input: `{"metadata":{` + manyKeys(51) + `}}`, param: "metadata"},
		{name: "LongMetadataKey", input: `{"metadata":{"` + strings.Repeat("k", 41) + `":1}}`, param: "metadata"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := Customer{ID: "cus_x"}
			err := decode(t, tt.input).Apply(&c)
			if tt.param == "" {
				if err != nil {
					t.Fatalf("Apply: %v", err)
				}
				if tt.check != nil {
					tt.check(t, c)
				}
				return
			}
			var be *Error
			if !asError(err, &be) || be.Code != EInvalid || be.Param != tt.param {
				t.Fatalf("Apply = %v, want invalid %s", err, tt.param)
			}
			if c.Name != nil || c.Phone != nil || c.Metadata != nil {
				t.Fatalf("a failed Apply changed the customer: %+v", c)
			}
		})
	}
}

func TestCustomerInputPatchSemantics(t *testing.T) {
	t.Parallel()
	name, email := "Kim", "kim@example.com"
	c := Customer{Name: &name, Email: &email, Metadata: map[string]any{"a": "b"}}
	var in CustomerInput
	if err := json.Unmarshal([]byte(`{"email": null}`), &in); err != nil {
		t.Fatal(err)
	}
	if err := in.Apply(&c); err != nil {
		t.Fatal(err)
	}
	if c.Email != nil || c.Name == nil || *c.Name != "Kim" || c.Metadata["a"] != "b" {
		t.Fatalf("null must clear only email; absent fields stay: %+v", c)
	}
}

func manyKeys(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = `"k` + strings.Repeat("x", i%5) + string(rune('a'+i%26)) + string(rune('a'+i/26)) + `":1`
	}
	return strings.Join(parts, ",")
}
