package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/golang-migrate/migrate/v4"
	migratepgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/billingd/billingd/migrations"
)

// migrationLockID is the session advisory lock every migrator takes, so that
// replicas starting together apply migrations once and the rest find nothing
// to do (golang-migrate's own lock times out; later migrators take none).
const migrationLockID = 0x62696c6c // "bill"

// MigrationStatus is where the schema stands.
type MigrationStatus struct {
	Version uint // applied version (0: none)
	Dirty   bool // a migration failed half-way; fix it and run migrate force
	Head    uint // newest version this binary carries
	// RiverOK: River's job tables are at the version this binary's River needs.
	RiverOK bool
}

// HeadVersion is the newest migration embedded in the binary.
func HeadVersion() uint {
	entries, err := fs.ReadDir(migrations.FS, ".")
	if err != nil {
		panic("store: embedded migrations unreadable: " + err.Error())
	}
	var versions []int
	for _, e := range entries {
		if n, _, ok := strings.Cut(e.Name(), "_"); ok {
			if v, err := strconv.Atoi(n); err == nil {
				versions = append(versions, v)
			}
		}
	}
	sort.Ints(versions)
	if len(versions) == 0 {
		return 0
	}
	return uint(versions[len(versions)-1])
}

// withMigrator runs fn with a golang-migrate instance over the pool, holding
// the migration advisory lock on a dedicated connection.
func (s *Store) withMigrator(ctx context.Context, fn func(*migrate.Migrate) error) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: acquire: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLockID); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	defer func() {
		// A fresh context: the unlock must happen even when ctx is done,
		// or the lock would stay with the pooled connection.
		unlockCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = conn.Exec(unlockCtx, "SELECT pg_advisory_unlock($1)", migrationLockID)
	}()

	src, err := iofs.New(migrations.FS, ".")
	if err != nil {
		return fmt.Errorf("migrate: source: %w", err)
	}
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	drv, err := migratepgx.WithInstance(db, &migratepgx.Config{})
	if err != nil {
		return fmt.Errorf("migrate: driver: %w", err)
	}
	m, err := migrate.NewWithInstance("iofs", src, "pgx5", drv)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// Without Close a pinned connection stays borrowed: pool.Close would
	// hang, and template databases could not be cloned.
	defer m.Close()
	m.LockTimeout = 2 * time.Minute
	return fn(m)
}

// Migrate applies every pending migration: billingd's own, then River's
// (its job tables), both under the one advisory lock — rivermigrate takes no
// lock of its own, and concurrent River migrators fail.
func (s *Store) Migrate(ctx context.Context) error {
	return s.withMigrator(ctx, func(m *migrate.Migrate) error {
		if err := m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
			return fmt.Errorf("migrate up: %w", err)
		}
		river, err := rivermigrate.New(riverpgxv5.New(s.pool), nil)
		if err != nil {
			return fmt.Errorf("river migrator: %w", err)
		}
		if _, err := river.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			return fmt.Errorf("river migrate up: %w", err)
		}
		return nil
	})
}

// MigrateDown rolls back n migrations.
func (s *Store) MigrateDown(ctx context.Context, n int) error {
	return s.withMigrator(ctx, func(m *migrate.Migrate) error {
		if err := m.Steps(-n); err != nil && !errors.Is(err, migrate.ErrNoChange) {
			return fmt.Errorf("migrate down %d: %w", n, err)
		}
		return nil
	})
}

// MigrateForce records version v as applied and clean, after an operator
// has repaired a failed migration by hand.
func (s *Store) MigrateForce(ctx context.Context, v int) error {
	return s.withMigrator(ctx, func(m *migrate.Migrate) error { return m.Force(v) })
}

// Migrations reports the schema version. It reads golang-migrate's table
// directly: cheap enough for a readiness probe.
func (s *Store) Migrations(ctx context.Context) (MigrationStatus, error) {
	st := MigrationStatus{Head: HeadVersion()}
	var version int64
	err := s.pool.QueryRow(ctx, `SELECT version, dirty FROM schema_migrations LIMIT 1`).Scan(&version, &st.Dirty)
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.Is(err, pgx.ErrNoRows) || (errors.As(err, &pgErr) && pgErr.Code == "42P01") {
			return st, nil // nothing applied yet
		}
		return st, fmt.Errorf("read migration version: %w", err)
	}
	st.Version = uint(version)
	river, err := rivermigrate.New(riverpgxv5.New(s.pool), nil)
	if err != nil {
		return st, fmt.Errorf("river migrator: %w", err)
	}
	res, err := river.Validate(ctx, nil)
	if err != nil {
		return st, fmt.Errorf("validate river migrations: %w", err)
	}
	st.RiverOK = res.OK
	return st, nil
}

// Ready reports whether this binary can serve on the schema: not dirty and
// at least at this binary's head. A newer schema is fine — during a rolling
// upgrade the migration job runs before the old pods are gone.
func (st MigrationStatus) Ready() bool { return !st.Dirty && st.Version >= st.Head && st.RiverOK }
