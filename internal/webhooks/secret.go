package webhooks

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
)

// SecretPrefix starts every signing secret, as Standard Webhooks says.
const SecretPrefix = "whsec_"

// secretBytes is the key length: 32 random bytes, inside the spec's 24–64.
const secretBytes = 32

// NewSecret returns a fresh signing secret, whsec_ + base64 of 32 random
// bytes.
func NewSecret() string {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		panic("webhooks: crypto/rand: " + err.Error()) // never fails on supported platforms
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// errBadSecret never quotes the secret.
var errBadSecret = errors.New("webhooks: malformed signing secret")

// secretKey decodes a whsec_ secret into its HMAC key.
func secretKey(secret string) ([]byte, error) {
	raw, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, errBadSecret
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(key) < 24 || len(key) > 64 {
		return nil, errBadSecret
	}
	return key, nil
}
