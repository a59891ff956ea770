package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/providers/iamport/sandbox"
	"github.com/billingd/billingd/internal/store/storetest"
)

// crashChildEnv makes this test binary run `billingd serve` instead of its
// tests: the crash test needs a billingd it can SIGKILL, and re-running
// itself saves building the binary.
const crashChildEnv = "BILLINGD_TEST_CHILD_SERVE"

func init() {
	if os.Getenv(crashChildEnv) != "1" {
		return
	}
	// SIGTERM drains, as in main.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, []string{"serve"}, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "billingd:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// A charge whose billingd is killed while the PG holds its reply gets its
// final answer within 45 s of the crash when retried with the same
// Idempotency-Key, and the PG charged its order exactly once: the dead
// run's lease on the key lapses, and the retry reconciles the order the
// dead run created instead of charging again.
func TestKilledChargeIsAnsweredSoonAfterRestart(t *testing.T) {
	clearBillingdEnv(t)
	pg := sandbox.New(sandbox.Options{SlowReply: 5 * time.Minute})
	pg.SetWebhooksEnabled(false) // the answer must come from reconciling, not a hint
	pgSrv := httptest.NewServer(pg)
	t.Cleanup(pgSrv.Close)

	port := freePort(t)
	base := "http://127.0.0.1:" + port
	adminToken := randomHex(t, 32)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	env := []string{
		crashChildEnv + "=1",
		"BILLINGD_DATABASE_URL=" + storetest.NewDatabaseURL(t),
		"BILLINGD_LISTEN_ADDR=127.0.0.1:" + port,
		"BILLINGD_PUBLIC_BASE_URL=" + base,
		"BILLINGD_ADMIN_TOKEN=" + adminToken,
		"BILLINGD_ENCRYPTION_KEY=" + base64.StdEncoding.EncodeToString(key),
		"BILLINGD_SANDBOX=false",
		"BILLINGD_LOG_LEVEL=warn",
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BILLINGD_") && !strings.HasPrefix(kv, "DATABASE_URL=") {
			env = append(env, kv)
		}
	}

	first := startChild(t, env, base)
	secret, billingKey := setupCharging(t, base, adminToken, pg, pgSrv.URL)

	// The charge: its amount ends in 5, so the PG records it paid and
	// holds the reply; billingd dies waiting for it.
	body := `{"billing_key_id":"` + billingKey + `","amount":10005,"order_name":"crash"}`
	idem := map[string]string{"Idempotency-Key": "crash-1"}
	go func() {
		resp, err := post(base+"/v1/payments", secret, body, idem)
		if err == nil {
			resp.Body.Close()
		}
	}()
	waitUntil(t, 30*time.Second, func() bool { return pg.Calls("POST /subscribe/payments/again") == 1 })
	time.Sleep(200 * time.Millisecond)
	first.kill(t)
	crashed := time.Now()

	startChild(t, env, base)
	var (
		status int
		got    map[string]any
	)
	for {
		resp, err := post(base+"/v1/payments", secret, body, idem)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		status, got = resp.StatusCode, nil
		_ = json.Unmarshal(raw, &got)
		if status != http.StatusConflict {
			break
		}
		if time.Since(crashed) > 45*time.Second {
			t.Fatalf("45 s after the crash the retry still gets %d %s", status, raw)
		}
		time.Sleep(500 * time.Millisecond)
	}
	took := time.Since(crashed)
	t.Logf("final answer %d %v, %.1f s after the crash", status, got["status"], took.Seconds())
	if took > 45*time.Second {
		t.Fatalf("final answer %.1f s after the crash, want within 45 s", took.Seconds())
	}
	if status != http.StatusCreated || got["status"] != "paid" {
		t.Fatalf("retry after the crash: %d %v, want 201 paid", status, got)
	}
	orders := pg.PaymentsByOrder(got["id"].(string))
	if len(orders) != 1 || pg.Calls("POST /subscribe/payments/again") != 1 {
		t.Fatalf("the PG holds %d attempts for the order after %d charge calls, want exactly 1",
			len(orders), pg.Calls("POST /subscribe/payments/again"))
	}
	list := httpJSON(t, "GET", base+"/v1/payments", secret, "", nil)
	if data, _ := list["data"].([]any); len(data) != 1 {
		t.Fatalf("billingd lists %d payments, want 1", len(data))
	}
}

// crashChild is a billingd serving from this test binary.
type crashChild struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startChild runs billingd serve and waits until it is ready.
func startChild(t *testing.T, env []string, base string) *crashChild {
	t.Helper()
	c := &crashChild{cmd: exec.Command(os.Args[0], "-test.run=^$"), done: make(chan struct{})}
	c.cmd.Env = env
	out := newLineWriter()
	c.cmd.Stdout, c.cmd.Stderr = out, out
	// The kernel kills the child if the test dies; Pdeathsig follows the
	// forking thread, so that thread stays locked while the child lives.
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := c.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = c.cmd.Wait()
		close(c.done)
	}()
	if err := <-started; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.kill(t) })
	waitUntil(t, 60*time.Second, func() bool {
		select {
		case <-c.done:
			t.Fatalf("billingd exited during start-up:\n%s", out.String())
		default:
		}
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return c
}

func (c *crashChild) kill(t *testing.T) {
	t.Helper()
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		t.Fatal("billingd survived SIGKILL for 10 s")
	}
}

// setupCharging creates, through the APIs, a merchant with a secret test
// key, an Iamport account on the sandbox pgURL and an active billing key.
func setupCharging(t *testing.T, base, adminToken string, pg *sandbox.Server, pgURL string) (secret, billingKey string) {
	t.Helper()
	ct := map[string]string{"Content-Type": "application/json"}
	m := httpJSON(t, "POST", base+"/admin/v1/merchants", adminToken, `{"name":"crash shop"}`, ct)
	mid, _ := m["id"].(string)
	k := httpJSON(t, "POST", base+"/admin/v1/merchants/"+mid+"/keys", adminToken, `{"kind":"secret","mode":"test"}`, ct)
	secret, _ = k["key"].(string)
	impKey, impSecret := "imp_crash_"+randomHex(t, 4), "secret_"+randomHex(t, 16)
	pg.AddAccount(impKey, impSecret)
	httpJSON(t, "POST", base+"/admin/v1/merchants/"+mid+"/provider_accounts", adminToken,
		`{"provider":"iamport","mode":"test","base_url":"`+pgURL+`","credentials":{"imp_key":"`+impKey+`","imp_secret":"`+impSecret+`"},`+
			`"settings":{"imp_code":"imp00000000","default_pg":"nice"}}`, ct)
	cus := httpJSON(t, "POST", base+"/v1/customers", secret, `{"name":"홍길동","email":"crash@example.com"}`, ct)
	cusID, _ := cus["id"].(string)
	bk := httpJSON(t, "POST", base+"/v1/billing_keys", secret, `{"customer_id":"`+cusID+`","provider":"iamport","pg":"nice",`+
		`"card":{"number":"4111-1111-1111-1111","expiry":"2035-12","birth":"900101","pwd_2digit":"12"}}`, ct)
	if bk["status"] != "active" {
		t.Fatalf("billing key %v, want active", bk)
	}
	billingKey, _ = bk["id"].(string)
	return secret, billingKey
}

func post(url, auth, body string, header map[string]string) (*http.Response, error) {
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+auth)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return http.DefaultClient.Do(req)
}

func waitUntil(t *testing.T, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not done within %s", timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
