// Package config reads billingd's settings from the environment (prefix
// BILLINGD_) with envconfig and checks them, so that a bad or missing value
// stops start-up with one line naming the variable.
package config

import (
	"encoding/base64"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/billingd/billingd/internal/keyring"
)

// Config is every setting billingd reads; README.md has the table. Names
// come from split_words (DatabaseURL → BILLINGD_DATABASE_URL) rather than
// envconfig tags on purpose: a tagged field silently falls back to the
// unprefixed variable (LOG_LEVEL, MIGRATE …) that other software sets.
type Config struct {
	DatabaseURL   string `split_words:"true"`
	ListenAddr    string `split_words:"true" default:":8080"`
	PublicBaseURL string `split_words:"true"`
	AdminToken    string `split_words:"true"`
	// EncryptionKey is base64 of 32 bytes; EncryptionKeyID names it.
	// RetiredEncryptionKeys ("id:base64,id:base64") still open old data.
	EncryptionKey         string `split_words:"true"`
	EncryptionKeyID       string `split_words:"true" default:"k1"`
	RetiredEncryptionKeys string `split_words:"true"`

	LogLevel  string `split_words:"true" default:"info"`
	LogFormat string `split_words:"true" default:"json"`

	MaxBodyBytes      int64         `split_words:"true" default:"1048576"`
	ReadHeaderTimeout time.Duration `split_words:"true" default:"5s"`
	ReadTimeout       time.Duration `split_words:"true" default:"15s"`
	WriteTimeout      time.Duration `split_words:"true" default:"60s"`
	IdleTimeout       time.Duration `split_words:"true" default:"120s"`
	ShutdownTimeout   time.Duration `split_words:"true" default:"25s"`

	// RateLimit is requests per second allowed per API key (0: no limit).
	RateLimit int `split_words:"true" default:"200"`
	// WebhookRateLimit is PG notifications per minute allowed per provider
	// account and source address (0: no limit). A minute, not a second: a
	// PG sends the notifications of schedules due at one instant in a burst.
	WebhookRateLimit int `split_words:"true" default:"3000"`
	// Migrate runs migrations when serve starts.
	Migrate bool `split_words:"true" default:"true"`
	// Sandbox serves the built-in sandbox PGs under /sandbox, the default
	// for test-mode accounts without a base_url.
	Sandbox bool `split_words:"true" default:"true"`
	// TestClock lets test-mode keys move test mode's time (the sandbox
	// PGs' clock and billingd's due times). It is shared by every test-mode
	// merchant of this billingd, so it is off unless asked for; dev turns it on.
	TestClock bool `split_words:"true" default:"false"`
	// JobWorkers is how many background jobs one replica runs at once.
	JobWorkers int `split_words:"true" default:"10"`
	// JobsPollOnly makes River poll for jobs instead of LISTENing: for
	// PgBouncer in transaction mode, where LISTEN does not work.
	JobsPollOnly bool `split_words:"true" default:"false"`
	// TrustedProxies lists CIDR ranges of proxies whose X-Forwarded-For
	// names the client (for PG webhook allow lists); empty trusts none.
	TrustedProxies []string `split_words:"true"`
	// DBMaxConns sizes the pgx pool.
	DBMaxConns int32 `split_words:"true" default:"20"`
	// EventRetention is how long events, with their webhook deliveries
	// and attempts, are kept: at least 30 days, the API's promise.
	EventRetention time.Duration `split_words:"true" default:"720h"`
	// AuditRetention is how long audit log rows are kept (0: forever).
	AuditRetention time.Duration `split_words:"true" default:"8760h"`
	// WebhookAllowPrivate lets webhook deliveries reach private, loopback
	// and link-local addresses: for development and tests only.
	WebhookAllowPrivate bool `split_words:"true" default:"false"`
	// APIKeyCacheTTL is how long an authenticated API key is remembered
	// before it is looked up again: a revoked key keeps working that long
	// on replicas other than the one that revoked it. 0 looks every
	// request's key up.
	APIKeyCacheTTL time.Duration `split_words:"true" default:"5s"`
	// DebugAddr, when set, serves Go's profiler (/debug/pprof/) on its own
	// listener. It is unauthenticated: bind it to loopback or a private
	// interface, never the public one.
	DebugAddr string `split_words:"true"`
}

// MinEventRetention is the shortest event retention allowed: the events
// API promises 30 days.
const MinEventRetention = 30 * 24 * time.Hour

// MaxAPIKeyCacheTTL bounds how long a revoked API key may keep working.
const MaxAPIKeyCacheTTL = time.Minute

// Prefix is the environment prefix of every setting.
const Prefix = "BILLINGD"

// Load reads the environment and checks every value that has a default or
// was given. Settings only some commands need are checked by Require.
func Load() (Config, error) {
	var c Config
	if err := envconfig.Process(Prefix, &c); err != nil {
		return c, cleanEnvconfigError(err)
	}
	return c, c.check()
}

func (c Config) check() error {
	switch c.LogLevel {
	case "trace", "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("BILLINGD_LOG_LEVEL must be one of trace, debug, info, warn, error (got %q)", c.LogLevel)
	}
	if c.LogFormat != "json" && c.LogFormat != "console" {
		return fmt.Errorf("BILLINGD_LOG_FORMAT must be json or console (got %q)", c.LogFormat)
	}
	if c.MaxBodyBytes < 1024 {
		return fmt.Errorf("BILLINGD_MAX_BODY_BYTES must be at least 1024 (got %d)", c.MaxBodyBytes)
	}
	for name, d := range map[string]time.Duration{
		"READ_HEADER_TIMEOUT": c.ReadHeaderTimeout, "READ_TIMEOUT": c.ReadTimeout,
		"WRITE_TIMEOUT": c.WriteTimeout, "IDLE_TIMEOUT": c.IdleTimeout, "SHUTDOWN_TIMEOUT": c.ShutdownTimeout,
	} {
		if d <= 0 {
			return fmt.Errorf("BILLINGD_%s must be a positive duration such as 10s (got %s)", name, d)
		}
	}
	if c.RateLimit < 0 {
		return fmt.Errorf("BILLINGD_RATE_LIMIT must be 0 (off) or a positive number of requests per second (got %d)", c.RateLimit)
	}
	if c.WebhookRateLimit < 0 {
		return fmt.Errorf("BILLINGD_WEBHOOK_RATE_LIMIT must be 0 (off) or a positive number of notifications per minute (got %d)", c.WebhookRateLimit)
	}
	if c.EventRetention < MinEventRetention {
		return fmt.Errorf("BILLINGD_EVENT_RETENTION must be at least 720h (30 days, what the events API promises; got %s)", c.EventRetention)
	}
	if c.JobWorkers < 1 {
		return fmt.Errorf("BILLINGD_JOB_WORKERS must be at least 1 (got %d)", c.JobWorkers)
	}
	// River holds a LISTEN connection and its leader a maintenance one,
	// and each running job may hold one: requests need the rest.
	if c.DBMaxConns < int32(c.JobWorkers)+5 {
		return fmt.Errorf("BILLINGD_DB_MAX_CONNS must be at least BILLINGD_JOB_WORKERS + 5 = %d (got %d)", c.JobWorkers+5, c.DBMaxConns)
	}
	for _, cidr := range c.TrustedProxies {
		if _, _, err := net.ParseCIDR(cidr); err != nil {
			return fmt.Errorf("BILLINGD_TRUSTED_PROXIES must be CIDR ranges such as 10.0.0.0/8 (got %q)", cidr)
		}
	}
	if c.APIKeyCacheTTL < 0 || c.APIKeyCacheTTL > MaxAPIKeyCacheTTL {
		return fmt.Errorf("BILLINGD_API_KEY_CACHE_TTL must be from 0 (off) to %s: revoked keys work that long (got %s)", MaxAPIKeyCacheTTL, c.APIKeyCacheTTL)
	}
	if c.DebugAddr != "" {
		if _, _, err := net.SplitHostPort(c.DebugAddr); err != nil {
			return fmt.Errorf("BILLINGD_DEBUG_ADDR must be host:port such as 127.0.0.1:6060 (got %q)", c.DebugAddr)
		}
	}
	if c.PublicBaseURL != "" {
		u, err := url.Parse(c.PublicBaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("BILLINGD_PUBLIC_BASE_URL must be an absolute http(s) URL such as https://billing.example.com")
		}
	}
	if c.EncryptionKey != "" {
		if _, err := c.Keyring(); err != nil {
			return err
		}
	}
	if c.AdminToken != "" && len(c.AdminToken) < 32 {
		return fmt.Errorf("BILLINGD_ADMIN_TOKEN must be at least 32 characters (generate one: openssl rand -hex 32)")
	}
	return nil
}

// Require checks that settings a command cannot run without are present.
func (c Config) Require(names ...string) error {
	for _, name := range names {
		var v string
		switch name {
		case "DATABASE_URL":
			v = c.DatabaseURL
		case "PUBLIC_BASE_URL":
			v = c.PublicBaseURL
		case "ADMIN_TOKEN":
			v = c.AdminToken
		case "ENCRYPTION_KEY":
			v = c.EncryptionKey
		default:
			panic("config: Require of unknown setting " + name)
		}
		if v == "" {
			return fmt.Errorf("BILLINGD_%s is required%s", name, requiredHint[name])
		}
	}
	return nil
}

var requiredHint = map[string]string{
	"DATABASE_URL":    " (a Postgres URL such as postgres://user:pass@host:5432/billingd)",
	"PUBLIC_BASE_URL": " (the https URL PGs reach billingd at, used for their webhooks)",
	"ADMIN_TOKEN":     " (generate one: openssl rand -hex 32)",
	"ENCRYPTION_KEY":  " (32 random bytes in base64: openssl rand -base64 32)",
}

// Keyring builds the keyring from the encryption settings.
func (c Config) Keyring() (*keyring.Keyring, error) {
	primary, err := decodeKey(c.EncryptionKey)
	if err != nil {
		return nil, fmt.Errorf("BILLINGD_ENCRYPTION_KEY %v", err)
	}
	retired := map[string][]byte{}
	if c.RetiredEncryptionKeys != "" {
		for _, item := range strings.Split(c.RetiredEncryptionKeys, ",") {
			id, b64, ok := strings.Cut(strings.TrimSpace(item), ":")
			if !ok || id == "" {
				return nil, fmt.Errorf("BILLINGD_RETIRED_ENCRYPTION_KEYS must be id:base64 pairs separated by commas")
			}
			k, err := decodeKey(b64)
			if err != nil {
				return nil, fmt.Errorf("BILLINGD_RETIRED_ENCRYPTION_KEYS key %q %v", id, err)
			}
			retired[id] = k
		}
	}
	kr, err := keyring.New(c.EncryptionKeyID, primary, retired)
	if err != nil {
		return nil, fmt.Errorf("BILLINGD_ENCRYPTION_KEY_ID / BILLINGD_RETIRED_ENCRYPTION_KEYS: %v", err)
	}
	return kr, nil
}

func decodeKey(b64 string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return nil, fmt.Errorf("must be base64 (generate one: openssl rand -base64 32)")
	}
	if len(k) != keyring.KeySize {
		return nil, fmt.Errorf("must decode to %d bytes, got %d (generate one: openssl rand -base64 32)", keyring.KeySize, len(k))
	}
	return k, nil
}

// cleanEnvconfigError turns envconfig's "envconfig.Process: assigning
// BILLINGD_X to Field: converting 'v' to type T. details: …" into one line
// naming the variable, without echoing the value (it might be a secret).
func cleanEnvconfigError(err error) error {
	var pe *envconfig.ParseError
	if ok := asParseError(err, &pe); ok {
		return fmt.Errorf("%s has an invalid value: want a %s", pe.KeyName, kindName(pe.TypeName))
	}
	return err
}

func asParseError(err error, target **envconfig.ParseError) bool {
	pe, ok := err.(*envconfig.ParseError)
	if ok {
		*target = pe
	}
	return ok
}

func kindName(typeName string) string {
	switch typeName {
	case "Duration":
		return "duration such as 10s or 1m30s"
	case "bool":
		return "boolean (true or false)"
	case "int", "int32", "int64":
		return "whole number"
	}
	return typeName
}
