package bootpay_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/providers"
	"github.com/billingd/billingd/internal/providers/bootpay"
)

const (
	idName  = "김민준"
	idPhone = "01098765432"
	idBirth = "19920317"
	idCI    = "Q0lfZm9yX3Rlc3RzX29ubHlfMTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OTA="
)

func TestCertificate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		window   map[string]any // nil: an id the sandbox never issued
		advance  time.Duration
		kind     error // nil: a certificate comes back
		verified bool
		sentinel error
	}{
		{name: "Verified", window: map[string]any{}, verified: true},
		{name: "NotVerified", window: map[string]any{"not_verified": true}},
		{name: "ExpiredMarker", window: map[string]any{"expired": true}, kind: providers.ErrRejected, sentinel: bootpay.ErrCertificateExpired},
		{name: "LookedUpAfter30Minutes", window: map[string]any{}, advance: 31 * time.Minute, kind: providers.ErrRejected, sentinel: bootpay.ErrCertificateExpired},
		{name: "Unknown", kind: providers.ErrNotFound},
	}
	for _, v := range versions {
		for _, tc := range cases {
			t.Run(v+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				b := setup(t, v)
				rid := "aaaaaaaaaaaaaaaaaaaaaaaa"
				if tc.window != nil {
					body := map[string]any{"name": idName, "phone": idPhone, "birth": idBirth, "gender": 1,
						"carrier": "SKT", "foreigner": false, "unique_id": idCI}
					for k, val := range tc.window {
						body[k] = val
					}
					rid = b.window(t, "certifications", body)
				}
				b.sb.Advance(tc.advance)
				cert, err := b.client.Certificate(context.Background(), rid)
				if tc.kind != nil {
					requireKind(t, err, tc.kind)
					if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
						t.Fatalf("error %v does not wrap %v", err, tc.sentinel)
					}
					requireNoIdentity(t, err.Error())
					return
				}
				if err != nil {
					t.Fatalf("Certificate: %v", err)
				}
				if cert.Verified() != tc.verified || cert.ReceiptID != rid {
					t.Fatalf("certificate status %s for %s, want verified=%v", cert.Status, cert.ReceiptID, tc.verified)
				}
				if tc.verified {
					if cert.Name != idName || cert.Phone != idPhone || cert.Birth != idBirth || cert.Gender != "male" ||
						cert.Carrier != "SKT" || cert.Foreigner || cert.UniqueID != idCI || cert.DI == "" || cert.VerifiedAt.IsZero() {
						t.Fatal("identity fields not decoded as sent")
					}
				} else if cert.UniqueID != "" || cert.Name != "" {
					t.Fatal("a certificate that is not verified carries identity")
				}
				var logged strings.Builder
				slog.New(slog.NewJSONHandler(&logged, nil)).Info("cert", "cert", cert)
				js, _ := json.Marshal(cert)
				for _, s := range []string{fmt.Sprint(cert), fmt.Sprintf("%v %+v %#v %s %q", cert, cert, cert, cert, cert),
					fmt.Sprint(&cert), fmt.Sprintf("%+v", []bootpay.Certificate{cert}), logged.String(), string(js)} {
					requireNoIdentity(t, s)
				}
				if !strings.Contains(fmt.Sprint(cert), rid) {
					t.Fatalf("redacted form %q lost the receipt id", fmt.Sprint(cert))
				}
			})
		}
	}
}

func requireNoIdentity(t testing.TB, s string) {
	t.Helper()
	for _, id := range []string{idName, idPhone, idBirth, "1992-03-17", idCI[:20]} {
		if strings.Contains(s, id) {
			t.Fatalf("%q shows identity", s)
		}
	}
}

func TestUserToken(t *testing.T) {
	t.Parallel()
	female := 0
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			b := setup(t, v)
			tok, err := b.client.UserToken(context.Background(), bootpay.UserTokenRequest{UserID: "cus_123", Email: "a@example.com",
				Name: "이서연", Gender: &female, Birth: "19950505", Phone: "01011112222"})
			if err != nil {
				t.Fatalf("UserToken: %v", err)
			}
			// The sandbox records the name only from the field the
			// generation defines (v2 "username", v1 "name").
			got, ok := b.sb.LookupUserToken(tok.Token)
			if !ok || got.UserID != "cus_123" || got.Name != "이서연" || got.Gender == nil || *got.Gender != 0 {
				t.Fatalf("sandbox recorded %+v", got)
			}
			// One hour, from expired_at (v2) or expired_unixtime (v1).
			if want := b.sb.Now().Add(time.Hour); !tok.ExpiresAt.Equal(want.Truncate(time.Second)) {
				t.Fatalf("ExpiresAt = %v, want %v", tok.ExpiresAt, want)
			}
			if strings.Contains(fmt.Sprint(tok), tok.Token) {
				t.Fatal("UserToken prints its token")
			}
			_, err = b.client.UserToken(context.Background(), bootpay.UserTokenRequest{})
			requireKind(t, err, providers.ErrRejected)
		})
	}
}
