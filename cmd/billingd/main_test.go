package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rs/zerolog"

	"github.com/billingd/billingd/internal/config"
	iamportsandbox "github.com/billingd/billingd/internal/providers/iamport/sandbox"
	"github.com/billingd/billingd/internal/store"
	"github.com/billingd/billingd/internal/store/storetest"
	"github.com/billingd/billingd/migrations"
)

// These tests run the real program: its subcommands, its server and its
// shutdown. They set environment variables, so they do not run in parallel.

func TestMain(m *testing.M) { storetest.Main(m) }

// lineWriter hands each written line to a channel, so a test can wait for
// the program to print something.
type lineWriter struct {
	mu    sync.Mutex
	all   strings.Builder
	lines chan string
	part  string
}

func newLineWriter() *lineWriter { return &lineWriter{lines: make(chan string, 1000)} }

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.all.Write(p)
	w.part += string(p)
	for {
		i := strings.IndexByte(w.part, '\n')
		if i < 0 {
			break
		}
		select {
		case w.lines <- w.part[:i]:
		default:
		}
		w.part = w.part[i+1:]
	}
	return len(p), nil
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.all.String()
}

// waitFor returns the first submatch of re in a line printed within timeout.
func (w *lineWriter) waitFor(t *testing.T, re *regexp.Regexp, timeout time.Duration) []string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case line := <-w.lines:
			if m := re.FindStringSubmatch(line); m != nil {
				return m
			}
		case <-deadline:
			t.Fatalf("nothing matching %s printed within %s; output:\n%s", re, timeout, w.String())
		}
	}
}

// clearBillingdEnv makes the test independent of the caller's settings.
func clearBillingdEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "BILLINGD_") {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
}

func TestDevPrintsWorkingKeysAndWalkthrough(t *testing.T) {
	clearBillingdEnv(t)
	if os.Getenv("DATABASE_URL") != "" {
		// Use a database of our own, not the shared one.
		t.Setenv("BILLINGD_DATABASE_URL", storetest.NewDatabaseURL(t))
	}
	// The dev cluster runs as the postgres user when we are root, so the
	// data dir's parents must be enterable by others (t.TempDir is not).
	parent, err := os.MkdirTemp("", "billingd-dev-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	if err := os.Chmod(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	dataDir := parent + "/data"

	first := startDev(t, dataDir)
	walkthrough(t, first)
	// As a data dir from before the browser windows has it.
	setIamportIMPCode(t, first, "imp00000000")
	first.stop(t)

	second := startDev(t, dataDir)
	demoCheckout(t, second, dataDir)
	if second.secretKey != first.secretKey || second.publishableKey != first.publishableKey || second.merchant != first.merchant {
		t.Fatalf("a second run with the same data dir printed other keys:\n%+v\n%+v", first, second)
	}
	customers := httpJSON(t, "GET", second.base+"/v1/customers", second.secretKey, "", nil)
	if data, _ := customers["data"].([]any); len(data) != 1 {
		t.Fatalf("the customer of the first run is gone: %v", customers)
	}
	second.stop(t)
}

// iamportAccount is the dev merchant's test Iamport account, as the admin
// API shows it.
func iamportAccount(t *testing.T, r *devRun) map[string]any {
	t.Helper()
	list := httpJSON(t, "GET", r.base+"/admin/v1/merchants/"+r.merchant+"/provider_accounts", r.adminToken, "", nil)
	data, _ := list["data"].([]any)
	for _, a := range data {
		if a, _ := a.(map[string]any); a["provider"] == "iamport" && a["mode"] == "test" {
			return a
		}
	}
	t.Fatalf("no test iamport account: %v", list)
	return nil
}

func setIamportIMPCode(t *testing.T, r *devRun, code string) {
	t.Helper()
	a := iamportAccount(t, r)
	settings, _ := a["settings"].(map[string]any)
	settings["imp_code"] = code
	body, _ := json.Marshal(map[string]any{"settings": settings})
	httpJSON(t, "PATCH", r.base+"/admin/v1/provider_accounts/"+a["id"].(string), r.adminToken, string(body),
		map[string]string{"Content-Type": "application/json"})
}

// demoCheckout checks test mode in a browser as dev sets it up, before
// billingd has called any PG: the demo URL it printed serves the page with
// the publishable key, never the secret one; the scripts are there; the
// sandbox windows know the dev merchant (its Iamport imp_code is the
// sandbox's merchant code, an old one moved over; its Bootpay application
// for identity).
func demoCheckout(t *testing.T, r *devRun, dataDir string) {
	t.Helper()
	var state devState
	if b, err := os.ReadFile(dataDir + "/dev-state.json"); err != nil || json.Unmarshal(b, &state) != nil {
		t.Fatalf("read dev-state.json: %v", err)
	}
	code := iamportsandbox.MerchantCode(state.IamportKey)
	if settings, _ := iamportAccount(t, r)["settings"].(map[string]any); settings["imp_code"] != code {
		t.Fatalf("the iamport account's imp_code is %v, want the sandbox's %s", settings["imp_code"], code)
	}
	for _, u := range []string{
		r.base + "/sandbox/iamport/sandbox/checkout?" + url.Values{"imp_code": {code},
			"params": {`{"pg":"payco","pay_method":"card","merchant_uid":"m","customer_uid":"c"}`}}.Encode(),
		r.base + "/sandbox/bootpay/sandbox/checkout?" + url.Values{"kind": {"authentication"},
			"payload": {`{"application_id":"` + state.BootpayAppID + `","pg":"danal","authentication_id":"a"}`}}.Encode(),
	} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || strings.Contains(string(page), `data-state="refused"`) {
			t.Fatalf("GET %s: HTTP %d, the window refuses the dev merchant:\n%s", u, resp.StatusCode, page)
		}
	}
	m := regexp.MustCompile(`demo checkout\s+(http://\S+)`).FindStringSubmatch(r.stdout.String())
	if m == nil {
		t.Fatal("dev printed no demo checkout URL")
	}
	url := m[1]
	for _, u := range []string{url, r.base + "/sandbox/iamport/iamport.js", r.base + "/sandbox/bootpay/bootpay.js", url + "/app.js"} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: HTTP %d", u, resp.StatusCode)
		}
		if u == url && (!strings.Contains(string(body), r.publishableKey) || strings.Contains(string(body), r.secretKey)) {
			t.Fatalf("the demo page must carry the publishable key and never the secret key:\n%s", body)
		}
	}
}

type devRun struct {
	base, merchant, secretKey, publishableKey, adminToken string
	stdout                                                *lineWriter
	cancel                                                context.CancelFunc
	done                                                  chan error
}

func startDev(t *testing.T, dataDir string) *devRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &devRun{stdout: newLineWriter(), cancel: cancel, done: make(chan error, 1)}
	stderr := newLineWriter()
	go func() {
		r.done <- run(ctx, []string{"dev", "--data-dir", dataDir, "--addr", "127.0.0.1:0"}, r.stdout, stderr)
	}()
	t.Cleanup(cancel)

	field := func(re string) string { return r.stdout.waitFor(t, regexp.MustCompile(re), 60*time.Second)[1] }
	r.base = field(`billingd dev is ready at (http://\S+)`)
	r.merchant = field(`merchant\s+(mer_\S+)`)
	r.secretKey = field(`secret key\s+(sk_test_\S+)`)
	r.publishableKey = field(`publishable key\s+(pk_test_\S+)`)
	r.adminToken = field(`admin token\s+(\S+)`)
	// The walkthrough is printed last; wait for its end before using it.
	r.stdout.waitFor(t, regexp.MustCompile(`Ctrl-C stops`), 10*time.Second)
	return r
}

func (r *devRun) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("dev exited with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("dev did not stop within 30 s of being interrupted")
	}
}

// walkthrough runs the walkthrough dev printed, in bash, as a newcomer
// would paste it: every step must succeed and the payment end partly
// refunded.
func walkthrough(t *testing.T, r *devRun) {
	t.Helper()
	out := r.stdout.String()
	start, end := strings.Index(out, walkthroughStart), strings.Index(out, walkthroughEnd)
	if start < 0 || end < start {
		t.Fatalf("no walkthrough in the output:\n%s", out)
	}
	script := "set -euo pipefail\n" + out[start:end]
	cmd := exec.Command("bash", "-c", script)
	got, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the walkthrough failed: %v\n%s\n--- script ---\n%s", err, got, script)
	}
	for _, want := range []string{`"status":"active"`, `"status":"succeeded"`, `"status":"partially_refunded"`,
		`"refunded_amount":4900`, `"object":"test_clock"`, `"current_period":3`,
		`"provider":"portone","amount":12000`} {
		if !strings.Contains(string(got), want) {
			t.Fatalf("the walkthrough's output lacks %s:\n%s", want, got)
		}
	}
}

func httpJSON(t *testing.T, method, url, auth, body string, header map[string]string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+auth)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, raw)
	}
	return out
}

func TestServeRefusesMissingOrBadConfig(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, "BILLINGD_DATABASE_URL is required"},
		{map[string]string{"BILLINGD_DATABASE_URL": "postgres://x"}, "BILLINGD_PUBLIC_BASE_URL is required"},
		{map[string]string{"BILLINGD_DATABASE_URL": "postgres://x", "BILLINGD_PUBLIC_BASE_URL": "https://b.example.com"}, "BILLINGD_ADMIN_TOKEN is required"},
		{map[string]string{"BILLINGD_READ_TIMEOUT": "forever"}, "BILLINGD_READ_TIMEOUT"},
		{map[string]string{"BILLINGD_ENCRYPTION_KEY": "dG9vIHNob3J0"}, "BILLINGD_ENCRYPTION_KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			clearBillingdEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			err := run(context.Background(), []string{"serve"}, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Count(err.Error(), "\n") > 0 {
				t.Fatalf("serve = %v, want one line containing %q", err, tt.want)
			}
		})
	}
}

func TestGracefulShutdownDrainsRequests(t *testing.T) {
	clearBillingdEnv(t)
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	st := storetest.NewStore(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	slow := func(r chi.Router) {
		r.Get("/sandbox/slow", func(w http.ResponseWriter, _ *http.Request) {
			close(started)
			time.Sleep(500 * time.Millisecond)
			w.Write([]byte("finished"))
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runServer(ctx, ln, cfg, st, zerolog.Nop(), slow) }()

	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/sandbox/slow")
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(bufio.NewReader(resp.Body))
		got <- string(b)
	}()
	<-started
	cancel() // SIGTERM arrives while the request runs
	if body := <-got; body != "finished" {
		t.Fatalf("in-flight request got %q, want it to finish", body)
	}
	if err := <-done; err != nil {
		t.Fatalf("runServer: %v", err)
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
		t.Fatal("the server still accepts connections after shutdown")
	}
}

func TestMigrateAndAdminCommands(t *testing.T) {
	clearBillingdEnv(t)
	t.Setenv("BILLINGD_DATABASE_URL", storetest.NewDatabaseURL(t))
	t.Setenv("BILLINGD_ENCRYPTION_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	t.Setenv("BILLINGD_PUBLIC_BASE_URL", "https://billing.example.com")
	ctx := context.Background()
	sh := func(args ...string) string {
		t.Helper()
		var out strings.Builder
		if err := run(ctx, args, &out, io.Discard); err != nil {
			t.Fatalf("billingd %s: %v", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(out.String())
	}

	head := store.HeadVersion()
	if v := sh("migrate", "version"); !strings.HasPrefix(v, fmt.Sprintf("schema version %d ", head)) {
		t.Fatalf("migrate version: %q", v)
	}
	sh("migrate", "down", "1")
	// One step down is the previous migration's version, not head-1:
	// parallel branches take their own numbers, so versions may have gaps.
	ups, err := fs.Glob(migrations.FS, "*.up.sql")
	if err != nil || len(ups) < 2 {
		t.Fatalf("migrations %v: %v", ups, err)
	}
	sort.Strings(ups)
	prev, _, _ := strings.Cut(ups[len(ups)-2], "_")
	if v := sh("migrate", "version"); !strings.HasPrefix(v, fmt.Sprintf("schema version %s ", strings.TrimLeft(prev, "0"))) {
		t.Fatalf("after down: %q", v)
	}
	sh("migrate", "up")

	merchant := sh("admin", "create-merchant", "CLI shop")
	fields := strings.Fields(sh("admin", "create-key", merchant, "secret", "live"))
	if len(fields) != 2 || !strings.HasPrefix(fields[1], "sk_live_") {
		t.Fatalf("create-key printed %v", fields)
	}
	sh("admin", "revoke-key", fields[0])
	acct := sh("admin", "create-provider-account", merchant, `{"provider":"bootpay","mode":"test","credentials":{"application_id":"a","private_key":"p"}}`)
	if !strings.Contains(acct, "webhook_url=https://billing.example.com/webhooks/bootpay/pa_") {
		t.Fatalf("create-provider-account printed %q", acct)
	}
	if list := sh("admin", "list-provider-accounts", merchant); !strings.Contains(list, "bootpay test") {
		t.Fatalf("list-provider-accounts printed %q", list)
	}
	// Each change is in the audit log under the CLI's user.
	st := store.New(mustPool(t, os.Getenv("BILLINGD_DATABASE_URL")), nil)
	rows, _, err := st.ListAuditEvents(ctx, store.AuditFilter{Page: store.Page{Limit: 10}, MerchantID: merchant})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range rows {
		if e.ActorType != "cli" || e.ActorID == "" {
			t.Errorf("audit row %+v is not the CLI's", e)
		}
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, " "); got != "provider_account.created api_key.revoked api_key.created merchant.created" {
		t.Errorf("audit actions %q", got)
	}
	for _, bad := range [][]string{{"admin", "create-key", merchant, "root", "test"}, {"admin", "frobnicate"}, {"migrate", "sideways"}, {"nonsense"}} {
		if err := run(ctx, bad, io.Discard, io.Discard); err == nil {
			t.Errorf("billingd %v succeeded", bad)
		}
	}
}

func mustPool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}
