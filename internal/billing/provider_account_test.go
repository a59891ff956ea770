package billing

import (
	"fmt"
	"strings"
	"testing"
)

func TestProviderAccountWebhookURL(t *testing.T) {
	t.Parallel()
	a := ProviderAccount{ID: "pa_1", Provider: "bootpay"}
	if got := a.WebhookURL("https://b.example.com/"); got != "https://b.example.com/webhooks/bootpay/pa_1" {
		t.Fatalf("WebhookURL = %q", got)
	}
}

func TestProviderAccountPrintingHidesCredentials(t *testing.T) {
	t.Parallel()
	a := ProviderAccount{ID: "pa_1", Provider: "iamport", Credentials: map[string]string{"imp_secret": "hunter2"}}
	for _, s := range []string{a.String(), fmt.Sprint(a), fmt.Sprintf("%v %+v", &a, a)} {
		if strings.Contains(s, "hunter2") {
			t.Fatalf("%q shows a credential", s)
		}
	}
}
