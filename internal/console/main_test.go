package console_test

import (
	"context"
	"os"
	"testing"

	"github.com/billingd/billingd/internal/browsertest"
	"github.com/billingd/billingd/internal/store/storetest"
)

// browser is this test binary's one headless Chromium; each test opens its
// own tab on it.
var browser *browsertest.Browser

func TestMain(m *testing.M) {
	b, stop := browsertest.Start(1280, 900)
	browser = b
	code := storetest.Run(m)
	stop()
	os.Exit(code)
}

// newTab gives each test a browser context of its own: every test server
// is on 127.0.0.1, and cookies are per host, so shared cookies would sign
// tests in and out of each other's consoles.
func newTab(t *testing.T) context.Context { return browser.Tab(t, true) }

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	browsertest.Screenshot(t, ctx, name)
}
