package webhooks

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/billingd/billingd/internal/billing"
)

func TestBlocked(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ip      string
		blocked bool
	}{
		{"127.0.0.1", true}, {"::1", true}, {"10.1.2.3", true}, {"172.16.0.1", true}, {"192.168.1.1", true},
		{"169.254.169.254", true}, {"fe80::1", true}, {"fc00::1", true}, {"0.0.0.0", true}, {"::", true},
		{"224.0.0.1", true}, {"ff02::1", true}, {"100.64.0.1", true}, {"255.255.255.255", true},
		{"::ffff:127.0.0.1", true}, {"::ffff:10.0.0.1", true}, {"64:ff9b::a00:1", true},
		{"8.8.8.8", false}, {"1.1.1.1", false}, {"2606:4700:4700::1111", false}, {"::ffff:8.8.8.8", false},
	} {
		if got := Blocked(netip.MustParseAddr(tc.ip)); got != tc.blocked {
			t.Errorf("Blocked(%s) = %v, want %v", tc.ip, got, tc.blocked)
		}
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	guarded, open := Guard{}, Guard{AllowPrivate: true}
	for _, tc := range []struct {
		name  string
		guard Guard
		mode  billing.Mode
		url   string
		ok    bool
	}{
		{"Public", guarded, billing.ModeLive, "https://shop.example.com/hooks", true},
		{"TestModeHTTP", guarded, billing.ModeTest, "http://shop.example.com/hooks", true},
		{"LiveHTTP", guarded, billing.ModeLive, "http://shop.example.com/hooks", false},
		{"Localhost", guarded, billing.ModeTest, "http://localhost:8080/hooks", false},
		{"SubLocalhost", guarded, billing.ModeTest, "http://api.localhost/hooks", false},
		{"Loopback", guarded, billing.ModeTest, "http://127.0.0.1/hooks", false},
		{"Metadata", guarded, billing.ModeLive, "https://169.254.169.254/latest", false},
		{"PrivateV6", guarded, billing.ModeLive, "https://[fd00::1]/x", false},
		{"LoopbackAllowed", open, billing.ModeTest, "http://127.0.0.1:9000/hooks", true},
		{"LiveStillHTTPS", open, billing.ModeLive, "http://127.0.0.1:9000/hooks", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.guard.CheckURL(tc.mode, tc.url)
			if (err == nil) != tc.ok {
				t.Fatalf("CheckURL(%s) = %v, want ok %v", tc.url, err, tc.ok)
			}
			if err != nil && billing.ErrorCode(err) != billing.EInvalid {
				t.Fatalf("not a 400: %v", err)
			}
		})
	}
}

// The guard holds at dial time, on the resolved address: "localhost" is a
// name (CheckURL might be bypassed by DNS that changes later), yet the
// connection to 127.0.0.1 is refused.
func TestClientRefusesPrivateTargetsAtDialTime(t *testing.T) {
	t.Parallel()
	hit := false
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hit = true }))
	t.Cleanup(srv.Close)
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]

	for _, target := range []string{srv.URL, "http://localhost" + port} {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, target, nil)
		_, err := NewClient(Guard{}, nil).Do(req)
		if !errors.Is(err, ErrBlockedAddress) {
			t.Fatalf("%s: err %v, want ErrBlockedAddress", target, err)
		}
		if describeError(err) != ErrBlockedAddress.Error() {
			t.Fatalf("describeError %q", describeError(err))
		}
	}
	if hit {
		t.Fatal("the guarded client reached the loopback server")
	}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL, nil)
	resp, err := NewClient(Guard{AllowPrivate: true}, nil).Do(req)
	if err != nil {
		t.Fatalf("AllowPrivate: %v", err)
	}
	resp.Body.Close()
}

func TestClientDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	followed := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/elsewhere" {
			followed = true
			return
		}
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL, nil)
	resp, err := NewClient(Guard{AllowPrivate: true}, nil).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect || followed {
		t.Fatalf("status %d, followed %v", resp.StatusCode, followed)
	}
}
