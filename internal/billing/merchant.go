package billing

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"strings"
	"time"
)

// Mode separates test objects (sandbox PGs) from live ones (real PGs). Objects
// never cross modes.
type Mode string

const (
	ModeTest Mode = "test"
	ModeLive Mode = "live"
)

// ParseMode validates a mode given by a caller.
func ParseMode(param, s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeTest, ModeLive:
		return m, nil
	}
	return "", Invalid(param, "%s must be \"test\" or \"live\"", param)
}

// Merchant is a tenant of billingd.
type Merchant struct {
	ID        string
	Name      string
	Settings  map[string]any // e.g. the dunning policy; see ValidateMerchantSettings
	CreatedAt time.Time
}

// ValidateMerchantName checks a merchant's display name.
func ValidateMerchantName(name string) error {
	if n := len([]rune(strings.TrimSpace(name))); n == 0 || n > 200 {
		return Invalid("name", "name must be 1 to 200 characters")
	}
	return nil
}

// KeyKind says what an API key may do: secret keys are for merchant
// backends; publishable keys may only call the client-side endpoints.
type KeyKind string

const (
	KeySecret      KeyKind = "secret"
	KeyPublishable KeyKind = "publishable"
)

// ParseKeyKind validates a key kind given by a caller.
func ParseKeyKind(param, s string) (KeyKind, error) {
	switch k := KeyKind(s); k {
	case KeySecret, KeyPublishable:
		return k, nil
	}
	return "", Invalid(param, "%s must be \"secret\" or \"publishable\"", param)
}

// APIKey is a merchant's credential. The key itself is shown once, at
// creation; only its SHA-256 is kept.
type APIKey struct {
	ID         string
	MerchantID string
	Kind       KeyKind
	Mode       Mode
	Hash       []byte
	Hint       string // last four characters
	CreatedAt  time.Time
	RevokedAt  *time.Time
}

// NewAPIKey mints a key of the given kind and mode for a merchant. It returns
// the record to store and the plaintext key to show once. Keys look like
// sk_test_… or pk_live_… followed by 32 base32 characters (160 random bits).
func NewAPIKey(merchantID string, kind KeyKind, mode Mode) (APIKey, string) {
	var raw [20]byte
	if _, err := rand.Read(raw[:]); err != nil {
		panic("billing: crypto/rand: " + err.Error()) // never fails on supported platforms
	}
	prefix := "sk_"
	if kind == KeyPublishable {
		prefix = "pk_"
	}
	secret := fmt.Sprintf("%s%s_%s", prefix, mode, idEncoding.EncodeToString(raw[:]))
	return APIKey{
		ID:         NewID(PrefixAPIKey),
		MerchantID: merchantID,
		Kind:       kind,
		Mode:       mode,
		Hash:       HashAPIKey(secret),
		Hint:       secret[len(secret)-4:],
	}, secret
}

// HashAPIKey is how keys are stored and looked up.
func HashAPIKey(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}

// LooksLikeAPIKey reports whether s has an API key's shape, so obviously
// wrong credentials are refused without a database round trip.
func LooksLikeAPIKey(s string) bool {
	return len(s) == 40 && (strings.HasPrefix(s, "sk_") || strings.HasPrefix(s, "pk_")) &&
		(s[3:8] == "test_" || s[3:8] == "live_")
}
