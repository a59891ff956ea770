package sandbox_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/billingd/billingd/internal/providers/iamport/sandbox"
)

func TestMountedUnderPrefix(t *testing.T) {
	t.Parallel()
	sb := sandbox.New(sandbox.Options{})
	sb.AddAccount(key, secret)
	t.Cleanup(sb.Close)
	mux := http.NewServeMux()
	mux.Handle("/sandbox/iamport/", http.StripPrefix("/sandbox/iamport", sb))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	base := srv.URL + "/sandbox/iamport"
	r := call(t, "POST", base+"/users/getToken", nil, url.Values{"imp_key": {key}, "imp_secret": {secret}})
	requireEnvelope(t, r, 200, 0)
	resp, err := http.Get(base + "/sandbox/window?imp_key=" + key + "&customer_uid=cus_1&pg=payco&pay_method=card")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), `"/sandbox/iamport/sandbox/window/billing_keys"`) {
		t.Fatalf("the page does not post under the mount prefix:\n%s", page)
	}
}

func TestWindowPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp, err := http.Get(b.url + "/sandbox/window?imp_key=" + key + "&customer_uid=" + url.QueryEscape(`"><script>alert(1)</script>`) + "&pg=payco&pay_method=card")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(raw)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("HTTP %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{"Complete", `value="payco"`, `value="card"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, bad := range []string{"<script>alert(1)", "src=", "href=\"http", "<link"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q (unescaped input or an external asset)", bad)
		}
	}
}
