package webhooks

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// The reference library is an implementation independent of ours: what it
// accepts, receivers accept.
func TestSignatureVerifiesWithTheReferenceLibrary(t *testing.T) {
	t.Parallel()
	current, previous := NewSecret(), NewSecret()
	body := []byte(`{"id":"evt_1","object":"event","type":"payment.paid","data":{"amount":9900,"name":"홍길동"}}`)
	now := time.Now()

	for _, tc := range []struct {
		name    string
		secrets []string
		verify  string
		wantErr bool
	}{
		{"OneSecret", []string{current}, current, false},
		{"RotationOldSecret", []string{current, previous}, previous, false},
		{"RotationNewSecret", []string{current, previous}, current, false},
		{"WrongSecret", []string{current}, previous, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if err := SetHeaders(h, "msg_1", now, body, tc.secrets...); err != nil {
				t.Fatal(err)
			}
			if n := len(strings.Fields(h.Get(HeaderSignature))); n != len(tc.secrets) {
				t.Fatalf("%d signatures for %d secrets", n, len(tc.secrets))
			}
			wh, err := standardwebhooks.NewWebhook(tc.verify)
			if err != nil {
				t.Fatal(err)
			}
			if err := wh.Verify(body, h); (err != nil) != tc.wantErr {
				t.Fatalf("Verify = %v, want error %v", err, tc.wantErr)
			}
			// A changed body never verifies.
			if err := wh.Verify(append(body, ' '), h); err == nil {
				t.Fatal("a tampered body verified")
			}
		})
	}

	t.Run("SameAsLibrarySign", func(t *testing.T) {
		t.Parallel()
		wh, _ := standardwebhooks.NewWebhook(current)
		want, err := wh.Sign("msg_2", now, body)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Sign("msg_2", now, body, current)
		if err != nil || got != want {
			t.Fatalf("Sign = %q, library %q (%v)", got, want, err)
		}
	})
}

func TestSecrets(t *testing.T) {
	t.Parallel()
	a, b := NewSecret(), NewSecret()
	if a == b || !strings.HasPrefix(a, SecretPrefix) {
		t.Fatalf("secrets %q %q", a, b)
	}
	key, err := secretKey(a)
	if err != nil || len(key) != 32 {
		t.Fatalf("key of %d bytes, %v", len(key), err)
	}
	for _, bad := range []string{"", "whsec_", "whsec_!!!", "sk_" + a[6:], SecretPrefix + base64.StdEncoding.EncodeToString(make([]byte, 8))} {
		if _, err := Sign("m", time.Now(), nil, bad); err == nil {
			t.Errorf("Sign accepted secret %q", bad)
		} else if bad != "" && strings.Contains(err.Error(), bad) {
			t.Errorf("the error quotes the secret: %v", err)
		}
	}
}
