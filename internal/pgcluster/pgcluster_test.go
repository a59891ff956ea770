package pgcluster

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/logtest"
)

func TestStart(t *testing.T) {
	t.Parallel()

	t.Run("TempCluster", func(t *testing.T) {
		t.Parallel()
		log := &logtest.Buffer{}
		c := mustStart(t, Options{Log: log})

		if got := queryString(t, c.URL(), "SHOW fsync"); got != "off" {
			t.Errorf("fsync = %q, want off", got)
		}
		if !strings.Contains(log.String(), "ready to accept connections") {
			t.Errorf("Log did not get the server output; got:\n%s", log)
		}
		if err := c.Stop(); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		requireGone(t, c.scratch)
	})

	t.Run("SettingsOverrideDefaults", func(t *testing.T) {
		t.Parallel()
		c := mustStart(t, Options{Settings: []string{"synchronous_commit=on", "work_mem=8MB"}})
		if got := queryString(t, c.URL(), "SHOW synchronous_commit"); got != "on" {
			t.Errorf("synchronous_commit = %q, want on", got)
		}
		if got := queryString(t, c.URL(), "SHOW work_mem"); got != "8MB" {
			t.Errorf("work_mem = %q, want 8MB", got)
		}
		if _, err := Start(t.Context(), Options{Settings: []string{"no-equals-sign"}}); err == nil {
			t.Error("a setting without = was accepted")
		}
	})

	t.Run("PersistentDataDirIsReused", func(t *testing.T) {
		t.Parallel()
		dataDir := persistentDataDir(t)

		first := mustStart(t, Options{DataDir: dataDir})
		mustExec(t, first.URL(), "CREATE TABLE kept (id int); INSERT INTO kept VALUES (42)")
		if err := first.Stop(); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		requireGone(t, first.scratch)

		second := mustStart(t, Options{DataDir: dataDir})
		if got := queryString(t, second.URL(), "SELECT id::text FROM kept"); got != "42" {
			t.Errorf("kept row = %q, want 42", got)
		}
	})

	t.Run("StalePidFileAfterKill", func(t *testing.T) {
		t.Parallel()
		dataDir := persistentDataDir(t)

		first := mustStart(t, Options{DataDir: dataDir})
		mustExec(t, first.URL(), "CREATE TABLE kept (id int)")
		first.srv.kill() // what Pdeathsig does when the parent dies
		if _, err := os.Stat(filepath.Join(dataDir, "postmaster.pid")); err != nil {
			t.Fatalf("want a stale postmaster.pid after a kill: %v", err)
		}

		second := mustStart(t, Options{DataDir: dataDir})
		queryString(t, second.URL(), "SELECT count(*)::text FROM kept")
	})

	t.Run("StopIsIdempotent", func(t *testing.T) {
		t.Parallel()
		c := mustStart(t, Options{})
		for i := range 3 {
			if err := c.Stop(); err != nil {
				t.Fatalf("Stop #%d: %v", i+1, err)
			}
		}
	})

	t.Run("StopEndsOpenConnections", func(t *testing.T) {
		t.Parallel()
		c := mustStart(t, Options{})
		conn, err := pgx.Connect(t.Context(), c.URL())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(t.Context(), "BEGIN"); err != nil {
			t.Fatal(err)
		}
		if err := c.Stop(); err != nil {
			t.Fatalf("Stop with an open transaction: %v", err)
		}
	})

	t.Run("URLFor", func(t *testing.T) {
		t.Parallel()
		c := mustStart(t, Options{})
		mustExec(t, c.URL(), `CREATE DATABASE "billingd test"`)
		if got := queryString(t, c.URLFor("billingd test"), "SELECT current_database()"); got != "billingd test" {
			t.Errorf("current_database() = %q, want %q", got, "billingd test")
		}
	})

	t.Run("PortTakenIsRecognised", func(t *testing.T) {
		t.Parallel()
		// The port race startServer retries is detected from the log; check
		// postgres still says what portTakenLog expects.
		taken, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer taken.Close()
		port := taken.Addr().(*net.TCPAddr).Port

		bin, err := FindBinDir()
		if err != nil {
			t.Fatal(err)
		}
		owner, err := lookupRunAs()
		if err != nil {
			t.Fatal(err)
		}
		scratch, err := makeScratch(owner)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(scratch) })
		dataDir := filepath.Join(scratch, "data")
		if err := ensureInitialised(t.Context(), bin, dataDir, scratch, owner, io.Discard); err != nil {
			t.Fatal(err)
		}
		s, err := launch(bin, dataDir, scratch, port, false, owner, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		defer s.kill()
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			t.Fatal("postgres still running on a taken port")
		}
		if !s.tail.Contains(portTakenLog) {
			t.Fatalf("postgres log lacks %q:\n%s", portTakenLog, s.tail)
		}
	})

	t.Run("ErrDataDirNotACluster", func(t *testing.T) {
		t.Parallel()
		dataDir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dataDir, "notes.txt"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Start(t.Context(), Options{DataDir: dataDir})
		if err == nil || !strings.Contains(err.Error(), "not a Postgres data directory") {
			t.Fatalf("Start = %v, want a not-a-data-directory error", err)
		}
	})
}

func TestURL(t *testing.T) {
	t.Parallel()
	c := &Cluster{port: 54321}
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"URL", c.URL(), "postgres://postgres@127.0.0.1:54321/postgres?sslmode=disable"},
		{"URLFor", c.URLFor("billingd_test"), "postgres://postgres@127.0.0.1:54321/billingd_test?sslmode=disable"},
		{"URLForEscapes", c.URLFor("a b/c"), "postgres://postgres@127.0.0.1:54321/a%20b%2Fc?sslmode=disable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.got != tt.want {
				t.Errorf("got %s, want %s", tt.got, tt.want)
			}
		})
	}
}

// mustStart starts a cluster that is stopped when the test ends.
func mustStart(t testing.TB, opts Options) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	c, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { c.Stop() })
	return c
}

// persistentDataDir returns a not-yet-existing data dir path. Its parent is
// world-traversable because t.TempDir's is 0700 root-owned, which the
// postgres user the cluster runs as under root could not enter.
func persistentDataDir(t testing.TB) string {
	t.Helper()
	base, err := os.MkdirTemp("", "pgcluster-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(base, "data")
}

func mustExec(t testing.TB, url, sql string) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func queryString(t testing.TB, url, sql string) string {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var s string
	if err := conn.QueryRow(t.Context(), sql).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

func requireGone(t testing.TB, path string) {
	t.Helper()
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s still there after Stop (stat: %v)", path, err)
	}
}
