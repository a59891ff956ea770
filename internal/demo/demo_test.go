package demo_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/billingd/billingd/internal/demo"
)

// A live key never reaches the demo: it refuses to be built with one.
func TestNewRefusesLiveKeys(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, sk, pk string }{
		{"LiveSecret", "sk_live_x", "pk_test_x"},
		{"LivePublishable", "sk_test_x", "pk_live_x"},
		{"SecretAsPublishable", "sk_test_x", "sk_test_x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := demo.New(demo.Options{APIBase: "http://127.0.0.1:1", SecretKey: tc.sk, PublishableKey: tc.pk}); err == nil {
				t.Fatal("the demo accepted a key that is not a test key of the right kind")
			}
		})
	}
}

// The demo backend passes billingd's own refusals through, so a bad
// request shows billingd's error, not the demo's.
func TestBackendPassesAPIErrorsThrough(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp, err := http.Post(b.url+"/sandbox/demo/backend/registrations", "application/json",
		strings.NewReader(`{"provider":"iamport","pg":"chai"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body strings.Builder
	_, _ = io.Copy(&body, resp.Body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body.String(), "m_redirect_url") {
		t.Fatalf("HTTP %d %s", resp.StatusCode, body.String())
	}
}
