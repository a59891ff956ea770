// Package pgcluster starts a private PostgreSQL cluster from the installed
// server binaries, for tests and for `billingd dev`.
//
// It owns the server process it starts and the directories it creates for it,
// and nothing else: it never connects to, configures or stops a Postgres it did
// not start (the system one on 5432 included) and never runs a shell. The
// server is a direct child of the caller, not a pg_ctl daemon, so it cannot
// outlive it: Stop shuts it down, and on Linux the kernel kills it if the
// caller dies first.
//
// The server trades durability for speed (fsync, synchronous_commit and
// full_page_writes off): a machine crash can corrupt its data. A persistent
// DataDir is for development data one can afford to lose, never for anything
// real.
package pgcluster
