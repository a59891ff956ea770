package demo_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// Screenshots of each window are test artifacts: they go to a directory
// under os.TempDir (logged), and with BILLINGD_SCREENSHOTS=docs also to
// docs/screenshots/, where the README shows them.

var (
	artifactsOnce sync.Once
	artifactsDir  string
)

func artifacts(t *testing.T) string {
	artifactsOnce.Do(func() {
		artifactsDir = filepath.Join(os.TempDir(), "billingd-browser-tests")
		_ = os.MkdirAll(artifactsDir, 0o755)
	})
	return artifactsDir
}

// screenshot captures the tab as name.png.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(artifacts(t), name+".png")
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
