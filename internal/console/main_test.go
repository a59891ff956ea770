package console_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/billingd/billingd/internal/store/storetest"
)

// The browser setup follows internal/demo's: one headless Chromium per test
// binary (a start costs seconds), a tab per test.

const chromiumInstall = "apt-get update && apt-get install -y chromium"

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
		chromedp.WindowSize(1280, 900))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("true")); err != nil {
		browser.err = fmt.Errorf("start %s: %w (install it with: %s)", path, err, chromiumInstall)
	}
	browser.ctx = ctx
	return func() { cancelBrowser(); cancelAlloc() }
}

// newTab opens a tab for t in a browser context of its own: cookies are
// per host, not per port, and every test's server is on 127.0.0.1, so
// shared cookies would sign tests in and out of each other's consoles. It
// fails (never skips) without a browser.
func newTab(t *testing.T) context.Context {
	t.Helper()
	if browser.err != nil {
		t.Fatal(browser.err)
	}
	ctx, cancel := chromedp.NewContext(browser.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// Screenshots are test artifacts under os.TempDir; with
// BILLINGD_SCREENSHOTS=docs they also go to docs/screenshots/.
var (
	artifactsOnce sync.Once
	artifactsDir  string
)

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	artifactsOnce.Do(func() {
		artifactsDir = filepath.Join(os.TempDir(), "billingd-browser-tests")
		_ = os.MkdirAll(artifactsDir, 0o755)
	})
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG, the whole page
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(artifactsDir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	if os.Getenv("BILLINGD_SCREENSHOTS") == "docs" {
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "screenshots", name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
