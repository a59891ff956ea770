package keyring_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/billingd/billingd/internal/keyring"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, keyring.KeySize) }

func mustNew(t *testing.T, id string, k []byte, retired map[string][]byte) *keyring.Keyring {
	t.Helper()
	kr, err := keyring.New(id, k, retired)
	if err != nil {
		t.Fatalf("keyring.New: %v", err)
	}
	return kr
}

func TestSealOpen(t *testing.T) {
	t.Parallel()
	kr := mustNew(t, "k1", key(1), nil)
	plain := []byte(`{"imp_secret":"s3cret"}`)
	id, sealed := kr.Seal(plain, []byte("pa_1"))
	if id != "k1" {
		t.Fatalf("key id = %q, want k1", id)
	}
	if bytes.Contains(sealed, []byte("s3cret")) {
		t.Fatal("ciphertext contains the plaintext")
	}
	_, again := kr.Seal(plain, []byte("pa_1"))
	if bytes.Equal(sealed, again) {
		t.Fatal("two seals of the same plaintext are equal: nonce reused")
	}
	got, err := kr.Open(id, sealed, []byte("pa_1"))
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v", got, err)
	}
}

func TestOpenRefuses(t *testing.T) {
	t.Parallel()
	kr := mustNew(t, "k1", key(1), nil)
	other := mustNew(t, "k1", key(2), nil)
	_, sealed := kr.Seal([]byte("secret"), []byte("pa_1"))
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1

	tests := []struct {
		name   string
		ring   *keyring.Keyring
		keyID  string
		sealed []byte
		aad    string
		want   error
	}{
		{"WrongAAD", kr, "k1", sealed, "pa_2", keyring.ErrOpen},
		{"Tampered", kr, "k1", tampered, "pa_1", keyring.ErrOpen},
		{"WrongKey", other, "k1", sealed, "pa_1", keyring.ErrOpen},
		{"UnknownKeyID", kr, "k9", sealed, "pa_1", keyring.ErrUnknownKey},
		{"Truncated", kr, "k1", sealed[:5], "pa_1", keyring.ErrOpen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := tt.ring.Open(tt.keyID, tt.sealed, []byte(tt.aad)); !errors.Is(err, tt.want) {
				t.Fatalf("Open error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRotation(t *testing.T) {
	t.Parallel()
	old := mustNew(t, "k1", key(1), nil)
	id, sealed := old.Seal([]byte("secret"), nil)

	rotated := mustNew(t, "k2", key(2), map[string][]byte{"k1": key(1)})
	got, err := rotated.Open(id, sealed, nil)
	if err != nil || string(got) != "secret" {
		t.Fatalf("rotated keyring cannot open old data: %q, %v", got, err)
	}
	if !rotated.NeedsReseal(id) {
		t.Fatal("data under a retired key should need resealing")
	}
	if newID, _ := rotated.Seal([]byte("secret"), nil); newID != "k2" {
		t.Fatalf("rotated keyring seals under %q, want k2", newID)
	}
}

func TestNewRejectsBadKeys(t *testing.T) {
	t.Parallel()
	for name, fn := range map[string]func() error{
		"Short":          func() error { _, err := keyring.New("k1", key(1)[:16], nil); return err },
		"EmptyID":        func() error { _, err := keyring.New("", key(1), nil); return err },
		"RetiredIsPrime": func() error { _, err := keyring.New("k1", key(1), map[string][]byte{"k1": key(2)}); return err },
	} {
		if fn() == nil {
			t.Errorf("%s: New accepted a bad key", name)
		}
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	a, b := mustNew(t, "k1", key(1), nil), mustNew(t, "k1", key(2), nil)
	ci := []byte("person-ci-value")
	if !bytes.Equal(a.Lookup(ci), a.Lookup(ci)) {
		t.Fatal("Lookup is not deterministic")
	}
	if bytes.Equal(a.Lookup(ci), b.Lookup(ci)) {
		t.Fatal("Lookup does not depend on the key")
	}
	if bytes.Equal(a.Lookup(ci), a.Lookup([]byte("other"))) {
		t.Fatal("Lookup collides")
	}
}
