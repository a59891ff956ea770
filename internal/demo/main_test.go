package demo_test

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
	b, stop := browsertest.Start(1100, 860)
	browser = b
	code := storetest.Run(m)
	stop()
	os.Exit(code)
}

func newTab(t *testing.T) context.Context { return browser.Tab(t, false) }

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	browsertest.Screenshot(t, ctx, name)
}
