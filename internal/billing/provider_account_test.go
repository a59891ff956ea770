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

func TestPortoneAccountValidation(t *testing.T) {
	t.Parallel()
	ok := ProviderAccount{Provider: "portone", Mode: ModeTest,
		Credentials: map[string]string{"api_secret": "s", "webhook_secret": "whsec_c2VjcmV0"},
		Settings:    map[string]any{"store_id": "store-1", "channel_key": "channel-key-1"}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid account: %v", err)
	}
	rotating := ok
	rotating.Credentials = map[string]string{"api_secret": "s", "webhook_secret": "whsec_bmV3", "webhook_secret_previous": "b2xk"}
	if err := rotating.Validate(); err != nil {
		t.Fatalf("account in rotation: %v", err)
	}
	for name, change := range map[string]func(*ProviderAccount){
		"NoWebhookSecret": func(a *ProviderAccount) { a.Credentials = map[string]string{"api_secret": "s"} },
		"IamportCreds":    func(a *ProviderAccount) { a.Credentials = map[string]string{"imp_key": "k", "imp_secret": "s"} },
		"UnknownSetting":  func(a *ProviderAccount) { a.Settings = map[string]any{"pg_mids": map[string]any{}} },
		"StoreIDNotText":  func(a *ProviderAccount) { a.Settings = map[string]any{"store_id": 1} },
		"SecretNotBase64": func(a *ProviderAccount) { a.Credentials["webhook_secret"] = "whsec_not base64!" },
		"UnknownCred":     func(a *ProviderAccount) { a.Credentials["webhook_secret_next"] = "whsec_c2VjcmV0" },
	} {
		a := ok
		a.Credentials, a.Settings = map[string]string{}, map[string]any{}
		for k, v := range ok.Credentials {
			a.Credentials[k] = v
		}
		for k, v := range ok.Settings {
			a.Settings[k] = v
		}
		change(&a)
		if ErrorCode(a.Validate()) != EInvalid {
			t.Errorf("%s: Validate = %v, want invalid", name, a.Validate())
		}
	}
}
