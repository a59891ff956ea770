// Package storetest gives tests a real, migrated, private Postgres database.
//
// It uses DATABASE_URL when set (the role needs CREATEDB); otherwise it starts
// one throwaway cluster per test binary with pgcluster. Either way it migrates
// a template database once and hands each test its own clone, so tests are
// isolated, can run in parallel, and cost one CREATE DATABASE each.
package storetest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/billingd/billingd/internal/keyring"
	"github.com/billingd/billingd/internal/pgcluster"
	"github.com/billingd/billingd/internal/store"
	"github.com/billingd/billingd/migrations"
)

var (
	setupOnce sync.Once
	setupErr  error
	serverURL string // admin URL of the server (database "postgres" or DATABASE_URL's)
	template  string
	cluster   *pgcluster.Cluster
)

// Main runs a package's tests and stops the throwaway cluster afterwards.
// Use it from TestMain: func TestMain(m *testing.M) { storetest.Main(m) }.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main for a TestMain that has more to stop before it exits (a
// browser): it runs the tests, stops the cluster and returns the exit code.
func Run(m *testing.M) int {
	code := m.Run()
	if cluster != nil {
		_ = cluster.Stop()
	}
	return code
}

// Keyring is the fixed keyring test stores seal with.
func Keyring(tb testing.TB) *keyring.Keyring {
	tb.Helper()
	kr, err := keyring.New("test", make([]byte, keyring.KeySize), nil)
	if err != nil {
		tb.Fatal(err)
	}
	return kr
}

// NewDatabaseURL creates a fresh migrated database for the test, dropped
// when the test ends, and returns its URL.
func NewDatabaseURL(tb testing.TB) string {
	tb.Helper()
	setupOnce.Do(func() { setupErr = setup() })
	if setupErr != nil {
		tb.Fatalf("storetest: %v", setupErr)
	}
	name := "test_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := adminExec(ctx, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, template)); err != nil {
		tb.Fatalf("storetest: clone template: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := adminExec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name)); err != nil {
			tb.Logf("storetest: drop %s: %v", name, err)
		}
	})
	return withDatabase(serverURL, name)
}

// NewStore returns a Store on a fresh migrated database, closed when the
// test ends.
func NewStore(tb testing.TB) *store.Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := store.Open(ctx, NewDatabaseURL(tb), 20, Keyring(tb))
	if err != nil {
		tb.Fatalf("storetest: open: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

func setup() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	serverURL = os.Getenv("DATABASE_URL")
	if serverURL == "" {
		c, err := pgcluster.Start(ctx, pgcluster.Options{})
		if err != nil {
			return err
		}
		cluster, serverURL = c, c.URL()
	}
	template = "tmpl_" + migrationsHash()[:16]
	return ensureTemplate(ctx)
}

// ensureTemplate migrates the template database once per migration set.
// Several test binaries may share one server (DATABASE_URL), so creation is
// serialised with an advisory lock.
func ensureTemplate(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(7261)`); err != nil {
		return err
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock(7261)`)

	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, template).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	// Build under a temporary name and rename when complete, so a run that
	// died half-way never leaves a broken template behind.
	building := template + "_building_" + randomHex(4)
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+building); err != nil {
		return fmt.Errorf("create template: %w", err)
	}
	s, err := store.Open(ctx, withDatabase(serverURL, building), 4, nil)
	if err != nil {
		return err
	}
	err = s.Migrate(ctx)
	s.Close()
	if err != nil {
		return fmt.Errorf("migrate template: %w", err)
	}
	_, err = conn.Exec(ctx, fmt.Sprintf(`ALTER DATABASE %s RENAME TO %s`, building, template))
	return err
}

func adminExec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// migrationsHash names the template after the migrations' content, so a
// changed migration gets a new template.
func migrationsHash() string {
	h := sha256.New()
	_ = fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(migrations.FS, path)
		h.Write([]byte(path))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))
}

func withDatabase(rawURL, db string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		panic("storetest: bad database URL")
	}
	u.Path = "/" + db
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
