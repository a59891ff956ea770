package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// A billing key issued from card data under an Idempotency-Key leaves
// nothing in any table or log line that can be matched against the card
// number: not the number, not a plain hash of it, nor of the request that
// carried it (the idempotency fingerprint is keyed; PCI DSS 3.5.1.1).
func TestCardDataLeavesNoUnkeyedTrace(t *testing.T) {
	t.Parallel()
	b := setupPayments(t)
	number, digits := "5409-2630-1234-5678", "5409263012345678"
	body := map[string]any{"customer_id": b.customer, "provider": "iamport", "pg": "nice",
		"card": map[string]any{"number": number, "expiry": "2031-07", "birth": "850315", "pwd_2digit": "37"}}
	issue := func(body map[string]any) response {
		return b.do(t, request{method: "POST", path: "/v1/billing_keys", auth: b.m.secret, body: body,
			header: map[string]string{"Idempotency-Key": "card-1"}})
	}
	first := issue(body)
	requireStatus(t, first, http.StatusCreated)
	// The keyed fingerprint still tells a retry from another card.
	if again := issue(body); again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry with the same card: %s", again.raw)
	}
	other := map[string]any{"customer_id": b.customer, "provider": "iamport", "pg": "nice",
		"card": map[string]any{"number": "5409-2630-1234-5679", "expiry": "2031-07", "birth": "850315", "pwd_2digit": "37"}}
	requireStatus(t, issue(other), http.StatusUnprocessableEntity)

	// Everything stored, every column of every row, as text (bytea as hex).
	var dump strings.Builder
	ctx := t.Context()
	rows, err := b.store.Pool().Query(ctx, `SELECT table_schema, table_name FROM information_schema.tables
		WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
		var schema, name string
		err := r.Scan(&schema, &name)
		return pgx.Identifier{schema, name}.Sanitize(), err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, table := range tables {
		rows, err := b.store.Pool().Query(ctx, `SELECT t::text FROM `+table+` t`)
		if err != nil {
			t.Fatal(err)
		}
		texts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range texts {
			dump.WriteString(table + " " + s + "\n")
		}
	}
	if !strings.Contains(dump.String(), "card-1") {
		t.Fatal("the dump misses the idempotency record; the test looks in the wrong place")
	}

	sent, _ := json.Marshal(body) // as b.do sends it
	plainHash := func(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }
	needles := map[string]string{
		"card number":                      digits,
		"card number as sent":              number,
		"card number, hex":                 hex.EncodeToString([]byte(digits)),
		"SHA-256 of the card number":       plainHash([]byte(digits)),
		"SHA-256 of the number as sent":    plainHash([]byte(number)),
		"SHA-256 of the request (old key)": plainHash(canonicalRequest("POST", "/v1/billing_keys", sent)),
	}
	for where, text := range map[string]string{"database": dump.String(), "logs": b.logs.String()} {
		for what, needle := range needles {
			if strings.Contains(strings.ToLower(text), strings.ToLower(needle)) {
				t.Errorf("the %s hold the %s", where, what)
			}
		}
	}
}
