// Package browsertest runs the pages billingd serves (sandbox windows, the
// demo checkout, the console) in a real headless Chromium for tests: one
// browser per test binary, since a start costs seconds on a busy machine,
// and a tab per test. It uses Debian's chromium (.ci/run installs it) and
// fails a test, never skips it, when there is none.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// Install is the fix a developer without Chromium is told.
const Install = "apt-get update && apt-get install -y chromium"

// Browser is a test binary's one headless Chromium.
type Browser struct {
	ctx           context.Context
	err           error
	width, height int
}

// Start launches the browser with a window of width × height; stop ends
// it. A browser that cannot start is not an error here: each Tab fails its
// test with the reason.
func Start(width, height int) (b *Browser, stop func()) {
	b = &Browser{width: width, height: height}
	path, err := chromiumPath()
	if err != nil {
		b.err = err
		return b, func() {}
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.NoSandbox, chromedp.ExecPath(path),
		chromedp.WindowSize(width, height))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	// The first Run starts the browser; its context must carry no timeout,
	// or the timeout would stop the browser.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("true")); err != nil {
		b.err = fmt.Errorf("start %s: %w (install it with: %s)", path, err, Install)
	}
	b.ctx = ctx
	return b, func() { cancelBrowser(); cancelAlloc() }
}

// chromiumPath finds Debian's chromium.
func chromiumPath() (string, error) {
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("the browser tests need Chromium and found none; install it with: %s", Install)
}

// Tab opens a tab for t, closed when t ends. An isolated tab gets a
// browser context of its own (its own cookies): cookies are per host, not
// per port, so tests whose servers all listen on 127.0.0.1 would otherwise
// share sessions.
func (b *Browser) Tab(t testing.TB, isolated bool) context.Context {
	t.Helper()
	if b.err != nil {
		t.Fatal(b.err)
	}
	var opts []chromedp.ContextOption
	if isolated {
		opts = append(opts, chromedp.WithNewBrowserContext())
	}
	ctx, cancel := chromedp.NewContext(b.ctx, opts...)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(b.width), int64(b.height))); err != nil {
		t.Fatal(err)
	}
	return ctx
}

// Screenshot saves the whole page of ctx as name.png, a test artifact in
// a directory under os.TempDir (logged). With BILLINGD_SCREENSHOTS=docs it
// also refreshes docs/screenshots/name.png, which the README shows; the
// calling test runs in internal/<package>, two levels below the root.
func Screenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100: PNG
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join(os.TempDir(), "billingd-browser-tests")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	if os.Getenv("BILLINGD_SCREENSHOTS") == "docs" {
		docs := filepath.Join("..", "..", "docs", "screenshots", name+".png")
		if err := os.WriteFile(docs, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", docs)
	}
}
