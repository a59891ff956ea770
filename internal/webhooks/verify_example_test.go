package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// verifyWebhook is the receiver-side check README.md shows merchants,
// verbatim (TestREADMEVerificationSnippet keeps the two equal): only the
// standard library, so it can be pasted into any Go backend.
func verifyWebhook(secret string, h http.Header, body []byte, now time.Time) error {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return errors.New("bad signing secret")
	}
	ts, err := strconv.ParseInt(h.Get("webhook-timestamp"), 10, 64)
	if err != nil || now.Sub(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		return errors.New("missing or stale webhook-timestamp")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(h.Get("webhook-id") + "." + h.Get("webhook-timestamp") + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		version, b64, _ := strings.Cut(sig, ",")
		got, err := base64.StdEncoding.DecodeString(b64)
		if version == "v1" && err == nil && hmac.Equal(got, want) {
			return nil // valid: now deduplicate on webhook-id
		}
	}
	return errors.New("no valid signature")
}

func TestREADMEVerificationSnippet(t *testing.T) {
	t.Parallel()
	oldSecret, newSecret := NewSecret(), NewSecret()
	body := []byte(`{"id":"evt_1","type":"payment.paid"}`)
	now := time.Now()
	h := http.Header{}
	if err := SetHeaders(h, "msg_1", now, body, newSecret, oldSecret); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		secret string
		body   []byte
		at     time.Time
		ok     bool
	}{
		{"NewSecret", newSecret, body, now, true},
		{"OldSecretDuringRotation", oldSecret, body, now, true},
		{"OtherSecret", NewSecret(), body, now, false},
		{"TamperedBody", newSecret, []byte(`{"id":"evt_2"}`), now, false},
		{"Replayed", newSecret, body, now.Add(10 * time.Minute), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := verifyWebhook(tc.secret, h, tc.body, tc.at); (err == nil) != tc.ok {
				t.Fatalf("verify = %v, want ok %v", err, tc.ok)
			}
		})
	}

	t.Run("READMEHasItVerbatim", func(t *testing.T) {
		t.Parallel()
		src, err := os.ReadFile("verify_example_test.go")
		if err != nil {
			t.Fatal(err)
		}
		start := strings.Index(string(src), "func verifyWebhook(")
		end := start + strings.Index(string(src)[start:], "\n}\n") + 2
		readme, err := os.ReadFile("../../README.md")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(readme), string(src[start:end])) {
			t.Fatal("README.md's verification snippet differs from verifyWebhook here; copy it over")
		}
	})
}
