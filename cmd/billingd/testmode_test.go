package main

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/billingd/billingd/internal/config"
	"github.com/billingd/billingd/internal/store/storetest"
)

// `billingd serve` serves the browser test mode only with the sandbox on,
// and the demo checkout never (it is `billingd dev`'s): production with the
// sandbox off has none of these pages.
func TestServeTestPagesOnlyWithSandbox(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sandbox bool
		want    map[string]int
	}{
		{"SandboxOff", false, map[string]int{"/sandbox/iamport/iamport.js": 404, "/sandbox/bootpay/bootpay.js": 404,
			"/sandbox/iamport/sandbox/checkout": 404, "/sandbox/demo": 404}},
		{"SandboxOn", true, map[string]int{"/sandbox/iamport/iamport.js": 200, "/sandbox/bootpay/bootpay.js": 200,
			"/sandbox/iamport/sandbox/checkout": 200, "/sandbox/demo": 404}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearBillingdEnv(t)
			cfg, err := config.Load()
			if err != nil {
				t.Fatal(err)
			}
			cfg.Sandbox = tc.sandbox
			st := storetest.NewStore(t)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- runServer(ctx, ln, cfg, st, zerolog.Nop(), nil) }()
			t.Cleanup(func() {
				cancel()
				select {
				case <-done:
				case <-time.After(30 * time.Second):
					t.Error("serve did not stop")
				}
			})
			base := "http://" + ln.Addr().String()
			for path, want := range tc.want {
				resp, err := http.Get(base + path)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != want {
					t.Errorf("GET %s: HTTP %d, want %d", path, resp.StatusCode, want)
				}
			}
		})
	}
}
