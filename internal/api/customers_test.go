package api

import (
	"net/http"
	"strings"
	"testing"
)

func TestCustomers(t *testing.T) {
	t.Parallel()

	t.Run("CreateGetUpdateDelete", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m := b.newMerchant(t)
		created := b.do(t, request{method: "POST", path: "/v1/customers", auth: m.secret, body: map[string]any{
			"external_id": "user-1", "name": "홍길동", "email": "hong@example.com", "phone": "010-1234-5678",
			"birth": "1990-10-04", "gender": "male", "metadata": map[string]any{"plan": "gold", "seats": 3},
		}})
		requireStatus(t, created, http.StatusCreated)
		id := created.str("id")
		if created.str("phone") != "01012345678" || created.str("mode") != "test" || !strings.HasPrefix(id, "cus_") {
			t.Fatalf("created %s", created.raw)
		}

		got := b.do(t, request{method: "GET", path: "/v1/customers/" + id, auth: m.secret})
		requireStatus(t, got, http.StatusOK)
		if got.str("name") != "홍길동" || got.str("birth") != "1990-10-04" {
			t.Fatalf("got %s", got.raw)
		}

		patched := b.do(t, request{method: "PATCH", path: "/v1/customers/" + id, auth: m.secret,
			body: map[string]any{"name": "김철수", "email": nil}})
		requireStatus(t, patched, http.StatusOK)
		if patched.str("name") != "김철수" || patched.body["email"] != nil || patched.str("external_id") != "user-1" {
			t.Fatalf("patched %s", patched.raw)
		}

		deleted := b.do(t, request{method: "DELETE", path: "/v1/customers/" + id, auth: m.secret})
		requireStatus(t, deleted, http.StatusOK)
		requireStatus(t, b.do(t, request{method: "GET", path: "/v1/customers/" + id, auth: m.secret}), http.StatusNotFound)
		requireStatus(t, b.do(t, request{method: "DELETE", path: "/v1/customers/" + id, auth: m.secret}), http.StatusNotFound)
	})

	t.Run("ExternalIDConflict", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m := b.newMerchant(t)
		first := b.do(t, request{method: "POST", path: "/v1/customers", auth: m.secret, body: map[string]any{"external_id": "u-7"}})
		requireStatus(t, first, http.StatusCreated)
		dup := b.do(t, request{method: "POST", path: "/v1/customers", auth: m.secret, body: map[string]any{"external_id": "u-7"}})
		requireStatus(t, dup, http.StatusConflict)
		if dup.errorField("param") != "external_id" || !strings.Contains(dup.errorField("message"), first.str("id")) {
			t.Fatalf("conflict does not name the existing customer: %s", dup.raw)
		}
	})

	t.Run("MerchantsAreIsolated", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		a, other := b.newMerchant(t), b.newMerchant(t)
		live := b.newKey(t, a.id, "secret", "live")
		c := b.do(t, request{method: "POST", path: "/v1/customers", auth: a.secret, body: map[string]any{"name": "A's customer"}})
		requireStatus(t, c, http.StatusCreated)
		id := c.str("id")

		for _, key := range []string{other.secret, live} {
			requireStatus(t, b.do(t, request{method: "GET", path: "/v1/customers/" + id, auth: key}), http.StatusNotFound)
			requireStatus(t, b.do(t, request{method: "PATCH", path: "/v1/customers/" + id, auth: key, body: map[string]any{"name": "x"}}), http.StatusNotFound)
			requireStatus(t, b.do(t, request{method: "DELETE", path: "/v1/customers/" + id, auth: key}), http.StatusNotFound)
			list := b.do(t, request{method: "GET", path: "/v1/customers", auth: key})
			requireStatus(t, list, http.StatusOK)
			if data := list.body["data"].([]any); len(data) != 0 {
				t.Fatalf("another merchant or mode lists %d customers", len(data))
			}
		}
		got := b.do(t, request{method: "GET", path: "/v1/customers/" + id, auth: a.secret})
		if got.str("name") != "A's customer" {
			t.Fatalf("owner's customer changed: %s", got.raw)
		}
	})

	t.Run("ListPagination", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m := b.newMerchant(t)
		for range 3 {
			requireStatus(t, b.do(t, request{method: "POST", path: "/v1/customers", auth: m.secret, body: map[string]any{}}), http.StatusCreated)
		}
		first := b.do(t, request{method: "GET", path: "/v1/customers?limit=2", auth: m.secret})
		requireStatus(t, first, http.StatusOK)
		data := first.body["data"].([]any)
		if len(data) != 2 || first.body["has_more"] != true {
			t.Fatalf("first page %s", first.raw)
		}
		last := data[1].(map[string]any)["id"].(string)
		second := b.do(t, request{method: "GET", path: "/v1/customers?limit=2&starting_after=" + last, auth: m.secret})
		if len(second.body["data"].([]any)) != 1 || second.body["has_more"] != false {
			t.Fatalf("second page %s", second.raw)
		}
	})

	t.Run("Validation", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		m := b.newMerchant(t)
		tests := []struct {
			name  string
			body  map[string]any
			param string
		}{
			{"BadEmail", map[string]any{"email": "nope"}, "email"},
			{"BadPhone", map[string]any{"phone": "call me"}, "phone"},
			{"FutureBirth", map[string]any{"birth": "2999-01-01"}, "birth"},
			{"BadBirth", map[string]any{"birth": "04/10/1990"}, "birth"},
			{"BadGender", map[string]any{"gender": "other"}, "gender"},
			{"LongName", map[string]any{"name": strings.Repeat("가", 101)}, "name"},
			{"EmptyExternalID", map[string]any{"external_id": "  "}, "external_id"},
			{"MetadataNotObject", map[string]any{"metadata": []any{1}}, "metadata"},
			{"MetadataTooBig", map[string]any{"metadata": map[string]any{"k": strings.Repeat("x", 9000)}}, "metadata"},
			{"NameWrongType", map[string]any{"name": 42}, "name"},
			{"UnknownField", map[string]any{"nickname": "x"}, "nickname"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := b.do(t, request{method: "POST", path: "/v1/customers", auth: m.secret, body: tt.body})
				requireStatus(t, r, http.StatusBadRequest)
				if r.errorField("param") != tt.param {
					t.Fatalf("param %q, want %q: %s", r.errorField("param"), tt.param, r.raw)
				}
			})
		}
		list := b.do(t, request{method: "GET", path: "/v1/customers", auth: m.secret})
		if n := len(list.body["data"].([]any)); n != 0 {
			t.Fatalf("invalid requests created %d customers", n)
		}
		for _, q := range []string{"limit=0", "limit=101", "limit=x", "starting_after=bogus"} {
			requireStatus(t, b.do(t, request{method: "GET", path: "/v1/customers?" + q, auth: m.secret}), http.StatusBadRequest)
		}
	})
}
