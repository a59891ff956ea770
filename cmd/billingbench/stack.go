package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/pgcluster"
)

// stack is everything a run needs: Postgres, billingd as a child process
// (the real binary, configured through BILLINGD_* like production) and the
// sandbox PGs, served by this process on loopback.
type stack struct {
	opts options
	tmp  string

	cluster    *pgcluster.Cluster // nil when DATABASE_URL names a server
	serverURL  string             // the server's maintenance database, superuser
	dbName     string
	dbURL      string // billingd's database
	binDir     string // where pgbench lives
	statements bool   // pg_stat_statements is loaded
	settings   string // the server settings that matter, for the report
	// postmasterPID is the server's pid when it runs here (CPU accounting).
	postmasterPID int

	billingd   *child
	loadClient *http.Client // the load generator's
	// adminToken authenticates the operator API of the child.
	adminToken string
}

// startPostgres starts a throwaway cluster (or uses DATABASE_URL's server)
// and creates a fresh database for billingd on it.
func (s *stack) startPostgres(ctx context.Context) error {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		s.serverURL = u
	} else {
		settings := []string{"synchronous_commit=on"}
		if s.opts.durable {
			settings = append(settings, "fsync=on", "full_page_writes=on")
		}
		withStatements := append([]string{"shared_preload_libraries=pg_stat_statements", "pg_stat_statements.track_utility=on"}, settings...)
		c, err := pgcluster.Start(ctx, pgcluster.Options{Settings: withStatements})
		if err != nil {
			// pg_stat_statements is in postgresql-contrib; without it the
			// run goes on with round trips counted by billingd alone.
			logf("pg_stat_statements unavailable (%v); continuing without it", firstLine(err))
			if c, err = pgcluster.Start(ctx, pgcluster.Options{Settings: settings}); err != nil {
				return err
			}
		}
		s.cluster, s.serverURL = c, c.URL()
	}
	if dir, err := pgcluster.FindBinDir(); err == nil {
		s.binDir = dir
	}
	s.dbName = "billingbench_" + randomHex(4)
	conn, err := pgx.Connect(ctx, s.serverURL)
	if err != nil {
		return fmt.Errorf("connect to postgres: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{s.dbName}.Sanitize()); err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	s.settings = serverSettings(ctx, conn)
	u, err := url.Parse(s.serverURL)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	u.Path, u.RawPath = "/"+s.dbName, ""
	s.dbURL = u.String()

	db, err := pgx.Connect(ctx, s.dbURL)
	if err != nil {
		return err
	}
	defer db.Close(ctx)
	if _, err := db.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err == nil {
		_, err = db.Exec(ctx, "SELECT count(*) FROM pg_stat_statements")
		s.statements = err == nil
	}
	return nil
}

// stopPostgres drops the database and stops a throwaway cluster.
func (s *stack) stopPostgres() {
	if s.cluster != nil {
		_ = s.cluster.Stop()
		return
	}
	if s.dbName == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if conn, err := pgx.Connect(ctx, s.serverURL); err == nil {
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{s.dbName}.Sanitize()+" WITH (FORCE)")
		conn.Close(ctx)
	}
}

// child is billingd running as a child process.
type child struct {
	cmd     *exec.Cmd
	done    chan struct{}
	err     error
	logPath string
	base    string // http://127.0.0.1:port
	debug   string // the profiler's base URL
	pid     int    // for CPU accounting; 0: not on this machine
}

// buildBillingd compiles cmd/billingd into the run's temporary directory,
// unless -billingd names a binary.
func (s *stack) buildBillingd(ctx context.Context) (string, error) {
	if s.opts.binary != "" {
		return s.opts.binary, nil
	}
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(gomod)) == "" || strings.TrimSpace(string(gomod)) == os.DevNull {
		return "", errors.New("run billingbench from the billingd module (go run ./cmd/billingbench), or pass -billingd PATH")
	}
	bin := filepath.Join(s.tmp, "billingd")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/billingd")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/billingd: %v\n%s", err, out)
	}
	return bin, nil
}

// startBillingd runs `billingd serve` against the run's database, with
// its log in the temporary directory, and waits until /readyz answers.
func (s *stack) startBillingd(ctx context.Context, bin string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	debugPort, err := freePort()
	if err != nil {
		return err
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	s.adminToken = randomHex(32)
	c := &child{
		done:    make(chan struct{}),
		logPath: filepath.Join(s.tmp, "billingd.log"),
		base:    "http://127.0.0.1:" + strconv.Itoa(port),
		debug:   "http://127.0.0.1:" + strconv.Itoa(debugPort),
	}
	env := []string{
		"BILLINGD_DATABASE_URL=" + s.dbURL,
		"BILLINGD_LISTEN_ADDR=127.0.0.1:" + strconv.Itoa(port),
		// PG webhooks (notice_url) come back to this billingd.
		"BILLINGD_PUBLIC_BASE_URL=" + c.base,
		"BILLINGD_ADMIN_TOKEN=" + s.adminToken,
		"BILLINGD_ENCRYPTION_KEY=" + base64.StdEncoding.EncodeToString(key),
		// One API key sends every charge: the per-key limiter stays in the
		// path but far above any rate measured.
		"BILLINGD_RATE_LIMIT=1000000",
		// The accounts name the benchmark's sandboxes as base_url.
		"BILLINGD_SANDBOX=false",
		"BILLINGD_DEBUG_ADDR=127.0.0.1:" + strconv.Itoa(debugPort),
		"BILLINGD_LOG_FORMAT=json",
		"BILLINGD_LOG_LEVEL=info",
	}
	env = append(env, s.opts.env...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BILLINGD_") && !strings.HasPrefix(kv, "DATABASE_URL=") {
			env = append(env, kv)
		}
	}
	logFile, err := os.Create(c.logPath)
	if err != nil {
		return err
	}
	c.cmd = exec.Command(bin, "serve")
	c.cmd.Env = env
	c.cmd.Stdout, c.cmd.Stderr = logFile, logFile
	c.cmd.SysProcAttr = &syscall.SysProcAttr{}
	setPdeathsig(c.cmd.SysProcAttr)
	started := make(chan error, 1)
	go func() {
		// Pdeathsig follows the thread that forked: keep it alive as long
		// as the child (see internal/pgcluster).
		runtime.LockOSThread()
		if err := c.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		c.err = c.cmd.Wait()
		logFile.Close()
		close(c.done)
	}()
	if err := <-started; err != nil {
		logFile.Close()
		return fmt.Errorf("start billingd: %w", err)
	}
	c.pid = c.cmd.Process.Pid
	s.billingd = c

	deadline := time.Now().Add(90 * time.Second)
	for {
		select {
		case <-c.done:
			return fmt.Errorf("billingd exited during start-up (%v):\n%s", c.err, tail(c.logPath, 20))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := http.Get(c.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("billingd not ready after 90 s:\n%s", tail(c.logPath, 20))
		}
	}
}

// stopBillingd sends SIGTERM and waits for the drain.
func (s *stack) stopBillingd() {
	c := s.billingd
	if c == nil || c.cmd == nil {
		return // not started here
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(40 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func firstLine(err error) string {
	line, _, _ := strings.Cut(err.Error(), "\n")
	return line
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(io.LimitReader(f, 64<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}
