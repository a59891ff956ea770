package billing

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
)

// ProviderAccount is a merchant's account at one PG, for one mode. Its
// credentials are sealed at rest; this type holds them opened, so it must
// never be logged or rendered whole.
type ProviderAccount struct {
	ID          string
	MerchantID  string
	Mode        Mode
	Provider    string // "iamport", "bootpay" or "portone"
	Credentials map[string]string
	BaseURL     string // empty: the mode's default (sandbox for test, the PG for live)
	Settings    map[string]any
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// String never prints credentials.
func (a ProviderAccount) String() string {
	return fmt.Sprintf("ProviderAccount{%s %s %s}", a.ID, a.Provider, a.Mode)
}

// providerRules lists, per provider, the credential fields it needs (and
// those it may also take, with their form) and the settings it
// understands. Unknown settings are refused so typos surface.
var providerRules = map[string]struct {
	credentials []string
	optional    []string
	forms       map[string]func(string) bool
	settings    map[string]func(any) bool
}{
	"iamport": {
		credentials: []string{"imp_key", "imp_secret"},
		settings: map[string]func(any) bool{
			"imp_code":            isString, // merchant code for IMP.init on the frontend
			"default_pg":          isString, // pg used when a registration names none
			"pg_mids":             isStringMap,
			"webhook_allowed_ips": isIPList,
		},
	},
	"bootpay": {
		credentials: []string{"application_id", "private_key"},
		settings: map[string]func(any) bool{
			"api_version":           func(v any) bool { return v == "v1" || v == "v2" },
			"client_application_id": isString, // JS SDK application id for the frontend
			"default_pg":            isString,
			"webhook_allowed_ips":   isIPList,
		},
	},
	"portone": { // PortOne V2
		credentials: []string{"api_secret", "webhook_secret"},
		// During a webhook secret rotation both secrets verify.
		optional: []string{"webhook_secret_previous"},
		forms:    map[string]func(string) bool{"webhook_secret": isWebhookSecret, "webhook_secret_previous": isWebhookSecret},
		settings: map[string]func(any) bool{
			"store_id":            isString, // storeId, sent where the API takes it and to the browser SDK
			"channel_key":         isString, // the default channel
			"webhook_allowed_ips": isIPList,
		},
	},
}

// Providers lists the PGs billingd can talk to.
func Providers() []string { return []string{"bootpay", "iamport", "portone"} }

// ValidateProvider checks a provider name.
func ValidateProvider(param, p string) error {
	if _, ok := providerRules[p]; !ok {
		return Invalid(param, "%s must be one of %s", param, strings.Join(Providers(), ", "))
	}
	return nil
}

// Validate checks a provider account's credentials, base URL and settings.
func (a ProviderAccount) Validate() error {
	if err := ValidateProvider("provider", a.Provider); err != nil {
		return err
	}
	rules := providerRules[a.Provider]
	for _, name := range rules.credentials {
		if strings.TrimSpace(a.Credentials[name]) == "" {
			return Invalid("credentials."+name, "%s credentials need %s", a.Provider, strings.Join(rules.credentials, " and "))
		}
	}
	for name, v := range a.Credentials {
		if form, ok := rules.forms[name]; ok && !form(v) {
			return Invalid("credentials."+name, "%s is not a webhook secret as the console shows it (whsec_ and base64)", name)
		}
		if !slices.Contains(rules.credentials, name) && !slices.Contains(rules.optional, name) {
			return Invalid("credentials."+name, "%s credentials take only %s", a.Provider, strings.Join(rules.credentials, " and "))
		}
	}
	if a.BaseURL != "" {
		u, err := url.Parse(a.BaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return Invalid("base_url", "base_url must be an absolute http(s) URL without query")
		}
		if a.Mode == ModeLive && u.Scheme != "https" {
			return Invalid("base_url", "a live account's base_url must use https")
		}
	}
	if err := ValidateMetadata(a.Settings); err != nil {
		return Invalid("settings", "settings are too large")
	}
	for name, v := range a.Settings {
		ok, known := rules.settings[name]
		if !known {
			return Invalid("settings."+name, "unknown %s setting %q", a.Provider, name)
		}
		if !ok(v) {
			return Invalid("settings."+name, "setting %s has the wrong form", name)
		}
	}
	return nil
}

// WebhookURL is where a PG must send notifications for this account.
func (a ProviderAccount) WebhookURL(publicBaseURL string) string {
	return strings.TrimRight(publicBaseURL, "/") + "/webhooks/" + a.Provider + "/" + a.ID
}

func isString(v any) bool { s, ok := v.(string); return ok && s != "" }

// isWebhookSecret: a Standard Webhooks secret is base64, "whsec_" optional.
func isWebhookSecret(s string) bool {
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(strings.TrimSpace(s), "whsec_"))
	return err == nil && len(b) > 0
}

func isStringMap(v any) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	for _, s := range m {
		if !isString(s) {
			return false
		}
	}
	return true
}

// isIPList accepts a list of IP addresses or CIDR ranges.
func isIPList(v any) bool {
	list, ok := v.([]any)
	if !ok {
		return false
	}
	for _, item := range list {
		s, ok := item.(string)
		if !ok {
			return false
		}
		if net.ParseIP(s) == nil {
			if _, _, err := net.ParseCIDR(s); err != nil {
				return false
			}
		}
	}
	return true
}
