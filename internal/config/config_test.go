package config

import (
	"strings"
	"testing"
	"time"
)

// These tests set process environment variables, so they do not run in
// parallel.

func TestLoadDefaults(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatalf("Load with an empty environment: %v", err)
	}
	if c.ListenAddr != ":8080" || !c.Migrate || c.MaxBodyBytes != 1<<20 {
		t.Fatalf("unexpected defaults: %+v", c)
	}
	// Events are kept the 30 days the API promises; deliveries stay off
	// private networks unless an operator says otherwise.
	if c.EventRetention != 30*24*time.Hour || c.WebhookAllowPrivate {
		t.Fatalf("webhook defaults: retention %s, allow private %v", c.EventRetention, c.WebhookAllowPrivate)
	}
	// Authenticated keys are remembered briefly; the profiler is off.
	if c.APIKeyCacheTTL != 5*time.Second || c.DebugAddr != "" {
		t.Fatalf("API key cache TTL %s, debug addr %q", c.APIKeyCacheTTL, c.DebugAddr)
	}
}

func TestLoadNamesTheBadVariable(t *testing.T) {
	const secret = "not-base64-but-a-secret!!"
	tests := []struct {
		env, value, want string
	}{
		{"BILLINGD_READ_TIMEOUT", "soon", "BILLINGD_READ_TIMEOUT"},
		{"BILLINGD_MIGRATE", "perhaps", "BILLINGD_MIGRATE"},
		{"BILLINGD_LOG_LEVEL", "loud", "BILLINGD_LOG_LEVEL"},
		{"BILLINGD_LOG_FORMAT", "xml", "BILLINGD_LOG_FORMAT"},
		{"BILLINGD_MAX_BODY_BYTES", "10", "BILLINGD_MAX_BODY_BYTES"},
		{"BILLINGD_PUBLIC_BASE_URL", "billing.example.com", "BILLINGD_PUBLIC_BASE_URL"},
		{"BILLINGD_ENCRYPTION_KEY", secret, "BILLINGD_ENCRYPTION_KEY"},
		{"BILLINGD_ENCRYPTION_KEY", "c2hvcnQ=", "BILLINGD_ENCRYPTION_KEY"},
		{"BILLINGD_ADMIN_TOKEN", "short", "BILLINGD_ADMIN_TOKEN"},
		{"BILLINGD_DB_MAX_CONNS", "2", "BILLINGD_DB_MAX_CONNS"},
		{"BILLINGD_JOB_WORKERS", "0", "BILLINGD_JOB_WORKERS"},
		{"BILLINGD_TRUSTED_PROXIES", "10.0.0.1/99", "BILLINGD_TRUSTED_PROXIES"},
		{"BILLINGD_EVENT_RETENTION", "24h", "BILLINGD_EVENT_RETENTION"},
		{"BILLINGD_EVENT_RETENTION", "forever", "BILLINGD_EVENT_RETENTION"},
		{"BILLINGD_WEBHOOK_ALLOW_PRIVATE", "maybe", "BILLINGD_WEBHOOK_ALLOW_PRIVATE"},
		{"BILLINGD_DEBUG_ADDR", "6060", "BILLINGD_DEBUG_ADDR"},
		{"BILLINGD_API_KEY_CACHE_TTL", "1h", "BILLINGD_API_KEY_CACHE_TTL"},
		{"BILLINGD_API_KEY_CACHE_TTL", "-1s", "BILLINGD_API_KEY_CACHE_TTL"},
	}
	for _, tt := range tests {
		t.Run(tt.env+"="+tt.value, func(t *testing.T) {
			t.Setenv(tt.env, tt.value)
			_, err := Load()
			if err == nil {
				t.Fatal("Load accepted a bad value")
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Fatalf("error %q should be one line naming %s", msg, tt.want)
			}
			if strings.Contains(msg, secret) {
				t.Fatalf("error %q echoes the value", msg)
			}
		})
	}
}

func TestRequire(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	err = c.Require("DATABASE_URL", "ADMIN_TOKEN")
	if err == nil || !strings.Contains(err.Error(), "BILLINGD_DATABASE_URL is required") {
		t.Fatalf("Require = %v", err)
	}
	c.DatabaseURL = "postgres://x"
	if err := c.Require("DATABASE_URL"); err != nil {
		t.Fatalf("Require with the value set: %v", err)
	}
}

func TestKeyringWithRetiredKeys(t *testing.T) {
	t.Setenv("BILLINGD_ENCRYPTION_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	t.Setenv("BILLINGD_ENCRYPTION_KEY_ID", "k2")
	t.Setenv("BILLINGD_RETIRED_ENCRYPTION_KEYS", "k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=")
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	kr, err := c.Keyring()
	if err != nil {
		t.Fatal(err)
	}
	if kr.PrimaryID() != "k2" || !kr.NeedsReseal("k1") {
		t.Fatalf("keyring primary %q", kr.PrimaryID())
	}
	t.Setenv("BILLINGD_RETIRED_ENCRYPTION_KEYS", "k1")
	if _, err := Load(); err == nil || !strings.Contains(err.Error(), "BILLINGD_RETIRED_ENCRYPTION_KEYS") {
		t.Fatalf("bad retired keys: %v", err)
	}
}

func TestUnprefixedVariablesAreIgnored(t *testing.T) {
	t.Setenv("LOG_LEVEL", "loud")
	t.Setenv("DATABASE_URL", "postgres://elsewhere")
	t.Setenv("MIGRATE", "false")
	c, err := Load()
	if err != nil {
		t.Fatalf("an unprefixed variable reached billingd's config: %v", err)
	}
	if c.DatabaseURL != "" || !c.Migrate {
		t.Fatalf("unprefixed variables were read: %+v", c)
	}
}
