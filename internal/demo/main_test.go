package demo_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/billingd/billingd/internal/store/storetest"
)

// chromiumInstall is the fix a developer without Chromium is told.
const chromiumInstall = "apt-get update && apt-get install -y chromium"

// browser is the one headless Chromium of this test binary (a start costs
// seconds on a busy machine); each test opens its own tab on it.
var browser struct {
	ctx context.Context
	err error
}

func TestMain(m *testing.M) {
	stop := startBrowser()
	code := storetest.Run(m)
	stop()
	os.Exit(code)
}

// chromiumPath finds Debian's chromium (CI installs it in .ci/run).
func chromiumPath() (string, error) {
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("the browser tests need Chromium and found none; install it with: %s", chromiumInstall)
}

func startBrowser() (stop func()) {
	path, err := chromiumPath()
	if err != nil {
		browser.err = err
		return func() {}
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.NoSandbox, chromedp.ExecPath(path),
		chromedp.WindowSize(1100, 860))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	// The first Run starts the browser; its context must carry no timeout,
	// or the timeout would stop the browser.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("true")); err != nil {
		browser.err = fmt.Errorf("start %s: %w (install it with: %s)", path, err, chromiumInstall)
	}
	browser.ctx = ctx
	return func() { cancelBrowser(); cancelAlloc() }
}

// newTab opens a tab for t on the shared browser; it fails the test (never
// skips it) when there is no browser.
func newTab(t *testing.T) context.Context {
	t.Helper()
	if browser.err != nil {
		t.Fatal(browser.err)
	}
	ctx, cancel := chromedp.NewContext(browser.ctx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1100, 860)); err != nil {
		t.Fatal(err)
	}
	return ctx
}
