package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/billingd/billingd/internal/keyring"
)

// Store is billingd's Postgres storage.
type Store struct {
	pool    *pgxpool.Pool
	keys    *keyring.Keyring
	enqueue DeliveryEnqueuer // see SetDeliveryEnqueuer
	trips   *roundTrips      // nil unless Open configured the pool
}

// Open connects a pool to databaseURL and checks the connection. keys seals
// and opens secrets at rest.
func Open(ctx context.Context, databaseURL string, maxConns int32, keys *keyring.Keyring) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		// pgx's message can quote the URL, password included: keep it out.
		return nil, errors.New("store: the database URL cannot be parsed")
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	trips := &roundTrips{}
	if cfg.ConnConfig.Tracer == nil {
		cfg.ConnConfig.Tracer = trips
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: open pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: connect to %s:%d/%s: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	return &Store{pool: pool, keys: keys, trips: trips}, nil
}

// New wraps an existing pool.
func New(pool *pgxpool.Pool, keys *keyring.Keyring) *Store { return &Store{pool: pool, keys: keys} }

// Pool exposes the pool for wiring that needs it (job queues).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close closes the pool, waiting for borrowed connections to return.
func (s *Store) Close() { s.pool.Close() }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// WithTx runs fn in one transaction, committing when fn returns nil.
func (s *Store) WithTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// withTxFrom is WithTx for a transaction whose first statement is known
// up front: a query of at most one row, which scan reads (pgx.ErrNoRows
// included). It goes to the server with BEGIN, one round trip for both;
// then fn runs in the transaction, which commits when fn returns nil.
func (s *Store) withTxFrom(ctx context.Context, sql string, args []any, scan func(pgx.Row) error, fn func(pgx.Tx) error) (err error) {
	b := &pgx.Batch{}
	b.BeginTx(pgx.TxOptions{})
	b.Queue(sql, args...)
	br := s.pool.SendBatch(ctx, b)
	tx := br.Tx()
	// Like pgx.BeginFunc: whatever happens, the transaction ends here (a
	// rollback after the commit is a no-op).
	defer func() {
		if rerr := tx.Rollback(ctx); rerr != nil && !errors.Is(rerr, pgx.ErrTxClosed) && err == nil {
			err = rerr
		}
	}()
	_, err = br.Exec() // BEGIN
	if err == nil {
		err = scan(br.QueryRow())
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// querier is what both the pool and a transaction offer, so a query function
// can run inside or outside a caller's transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// uniqueViolation returns the constraint name when err is a unique-key
// violation.
func uniqueViolation(err error) (string, bool) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return pgErr.ConstraintName, true
	}
	return "", false
}
