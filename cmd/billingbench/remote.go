package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Remote driving: with -billingd-url the run builds and starts no billingd
// and no Postgres; it drives a billingd that runs elsewhere (with its own
// cores), and -database-url names that billingd's database, for pgbench
// and the statement counts. The load generator and the sandbox PGs stay
// here: -sandbox-host is the address they listen on, which billingd must
// reach (the accounts' base_url). CPU columns need /proc: billingd's with
// -billingd-pid when it runs on this machine, Postgres's when its data
// directory is readable here; otherwise they read "–".

// remote reports whether the run drives a billingd it did not start.
func (o options) remote() bool { return o.billingdURL != "" }

func (o options) checkRemote() error {
	switch {
	case !o.remote() && (o.databaseURL != "" || o.billingdPID != 0):
		return errors.New("-database-url and -billingd-pid go with -billingd-url")
	case !o.remote():
		return nil
	case o.databaseURL == "":
		return errors.New("-billingd-url needs -database-url: billingd's database, for pgbench and the statement counts")
	case o.adminToken == "":
		return errors.New("-billingd-url needs -admin-token (or BILLINGBENCH_ADMIN_TOKEN): the billingd's BILLINGD_ADMIN_TOKEN")
	case o.profileDir != "" && o.billingdDebugURL == "":
		return errors.New("-profile with -billingd-url needs -billingd-debug-url")
	case o.binary != "" || len(o.env) > 0 || o.durable:
		return errors.New("-billingd, -env and -durable configure a billingd or Postgres started here; with -billingd-url, configure yours")
	}
	return nil
}

// useRemote points the stack at the remote billingd and its database, and
// waits until the billingd answers /readyz.
func (s *stack) useRemote(ctx context.Context) error {
	o := s.opts
	s.serverURL, s.dbURL = o.databaseURL, o.databaseURL
	s.adminToken = o.adminToken
	s.billingd = &child{base: strings.TrimRight(o.billingdURL, "/"), debug: strings.TrimRight(o.billingdDebugURL, "/"), pid: o.billingdPID}
	conn, err := pgx.Connect(ctx, s.dbURL)
	if err != nil {
		return fmt.Errorf("-database-url: %w", err)
	}
	defer conn.Close(ctx)
	s.settings = serverSettings(ctx, conn)
	if _, err := conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"); err == nil {
		_, err = conn.Exec(ctx, "SELECT count(*) FROM pg_stat_statements")
		s.statements = err == nil
	}
	resp, err := http.Get(s.billingd.base + "/readyz")
	if err != nil {
		return fmt.Errorf("-billingd-url: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("-billingd-url: /readyz answered %d", resp.StatusCode)
	}
	return nil
}

// serverSettings are the server settings that matter, for the report.
func serverSettings(ctx context.Context, conn *pgx.Conn) string {
	var settings []string
	for _, name := range []string{"server_version", "fsync", "synchronous_commit", "full_page_writes", "shared_buffers", "max_connections"} {
		var v string
		if err := conn.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v); err == nil {
			settings = append(settings, name+"="+v)
		}
	}
	return strings.Join(settings, " ")
}
