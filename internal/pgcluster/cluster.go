package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Options configures Start.
type Options struct {
	// DataDir is the cluster's data directory. Empty means a fresh temporary
	// cluster whose files Stop removes. Non-empty means a persistent cluster:
	// initdb runs only if DataDir is not a data directory yet, so a second run
	// reuses the data, and Stop never removes it.
	DataDir string

	// Log receives the output of initdb and of the server. Nil discards it.
	Log io.Writer

	// Settings are extra server settings as "name=value", each passed as
	// "-c name=value" after billingd's defaults, so they can override them
	// (e.g. "synchronous_commit=on", or
	// "shared_preload_libraries=pg_stat_statements" for the benchmark).
	Settings []string
}

// Cluster is a running server started by Start. Its methods are safe for
// concurrent use.
type Cluster struct {
	port    int
	scratch string // private temp dir: the socket, and a temporary cluster's data; removed by Stop
	srv     *server

	stopOnce sync.Once
	stopErr  error
}

// Start finds the server binaries (see FindBinDir), initialises the data
// directory if needed and starts postgres on a free port of 127.0.0.1. It
// returns once the server answers queries, or with an error carrying the tail
// of the server log. ctx bounds the start only, not the server's life: call
// Stop to end it.
//
// When the process runs as root, initdb and postgres run as the OS user
// "postgres", which must then be able to reach DataDir.
func Start(ctx context.Context, opts Options) (_ *Cluster, err error) {
	bin, err := FindBinDir()
	if err != nil {
		return nil, err
	}
	owner, err := lookupRunAs()
	if err != nil {
		return nil, err
	}
	log := opts.Log
	if log == nil {
		log = io.Discard
	}

	scratch, err := makeScratch(owner)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(scratch)
		}
	}()

	dataDir := filepath.Join(scratch, "data")
	if opts.DataDir != "" {
		if dataDir, err = filepath.Abs(opts.DataDir); err != nil {
			return nil, fmt.Errorf("pgcluster: data dir: %w", err)
		}
	}
	if err = ensureInitialised(ctx, bin, dataDir, scratch, owner, log); err != nil {
		return nil, err
	}

	for _, kv := range opts.Settings {
		if name, _, ok := strings.Cut(kv, "="); !ok || name == "" {
			return nil, fmt.Errorf("pgcluster: setting %q is not name=value", kv)
		}
	}
	srv, port, err := startServer(ctx, bin, dataDir, scratch, opts.DataDir != "", owner, log, opts.Settings...)
	if err != nil {
		return nil, err
	}
	return &Cluster{port: port, scratch: scratch, srv: srv}, nil
}

// URL returns the connection URL of the cluster's "postgres" database, as
// superuser "postgres" (trust authentication, no password).
func (c *Cluster) URL() string { return c.URLFor("postgres") }

// URLFor returns the connection URL of database dbname on the cluster.
func (c *Cluster) URLFor(dbname string) string { return connURL(c.port, dbname) }

func connURL(port int, dbname string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		Path:     "/" + dbname,
		RawPath:  "/" + url.PathEscape(dbname), // a "/" in the name must not read as a path separator
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Stop shuts the server down (fast shutdown: open transactions are rolled
// back and clients disconnected), waits for it to exit and removes the
// cluster's temporary files. A persistent DataDir is kept. Calling Stop again
// returns the first call's result.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		c.stopErr = errors.Join(
			c.srv.stop(),
			removeAll(c.scratch),
		)
	})
	return c.stopErr
}

func removeAll(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("pgcluster: remove %s: %w", dir, err)
	}
	return nil
}
