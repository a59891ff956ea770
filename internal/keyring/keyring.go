// Package keyring seals secrets at rest (PG credentials, identity data) with
// AES-256-GCM and computes keyed lookups (HMAC-SHA-256) over identifiers that
// must be matched without being stored in the clear.
//
// Every ciphertext is stored beside the id of the key that sealed it, so keys
// can rotate: new data is sealed with the primary key, old data still opens
// with a retired one until it is re-sealed.
package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// KeySize is the length of every key: AES-256.
const KeySize = 32

// ErrUnknownKey means a ciphertext names a key this keyring does not hold.
var ErrUnknownKey = errors.New("keyring: unknown key id")

// ErrOpen means a ciphertext failed authentication: wrong key, or tampered.
var ErrOpen = errors.New("keyring: cannot open ciphertext")

// Keyring holds one primary key, used to seal, and any number of retired
// keys, used only to open.
type Keyring struct {
	primary string
	aeads   map[string]cipher.AEAD
	macKey  []byte
}

// New returns a keyring whose primary key is key under id primaryID;
// retired maps older key ids to their keys.
func New(primaryID string, key []byte, retired map[string][]byte) (*Keyring, error) {
	k := &Keyring{primary: primaryID, aeads: map[string]cipher.AEAD{}}
	all := map[string][]byte{primaryID: key}
	for id, rk := range retired {
		if id == primaryID {
			return nil, fmt.Errorf("keyring: retired key id %q is also the primary id", id)
		}
		all[id] = rk
	}
	for id, raw := range all {
		if id == "" {
			return nil, errors.New("keyring: empty key id")
		}
		if len(raw) != KeySize {
			return nil, fmt.Errorf("keyring: key %q is %d bytes, want %d", id, len(raw), KeySize)
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, fmt.Errorf("keyring: key %q: %w", id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("keyring: key %q: %w", id, err)
		}
		k.aeads[id] = aead
	}
	// The lookup key is derived from the primary key so that one secret
	// configures both; a separate label keeps the two uses apart.
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("billingd lookup hmac v1"))
	k.macKey = mac.Sum(nil)
	return k, nil
}

// PrimaryID is the id of the key Seal uses.
func (k *Keyring) PrimaryID() string { return k.primary }

// Seal encrypts plaintext with the primary key. aad binds the ciphertext to
// its context (e.g. the row id), so a ciphertext copied to another row will
// not open there. It returns the key id to store beside the ciphertext.
func (k *Keyring) Seal(plaintext, aad []byte) (keyID string, sealed []byte) {
	aead := k.aeads[k.primary]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic("keyring: crypto/rand: " + err.Error()) // never fails on supported platforms
	}
	return k.primary, aead.Seal(nonce, nonce, plaintext, aad)
}

// Open decrypts a ciphertext sealed under keyID with the same aad.
func (k *Keyring) Open(keyID string, sealed, aad []byte) ([]byte, error) {
	aead, ok := k.aeads[keyID]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownKey, keyID)
	}
	if len(sealed) < aead.NonceSize()+aead.Overhead() {
		return nil, ErrOpen
	}
	nonce, body := sealed[:aead.NonceSize()], sealed[aead.NonceSize():]
	plain, err := aead.Open(nil, nonce, body, aad)
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}

// NeedsReseal reports whether data sealed under keyID should be sealed again
// with the primary key.
func (k *Keyring) NeedsReseal(keyID string) bool { return keyID != k.primary }

// Lookup returns a keyed hash of an identifier (e.g. a person's CI), for
// finding equal values without storing them. It is stable across primary
// key rotation only while the primary key is unchanged; rotate it with a
// re-hash migration.
func (k *Keyring) Lookup(value []byte) []byte {
	mac := hmac.New(sha256.New, k.macKey)
	mac.Write(value)
	return mac.Sum(nil)
}
