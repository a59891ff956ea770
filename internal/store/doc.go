// Package store is billingd's only package with SQL. It owns the pgx pool, the
// migration runner and one file of queries per table group, and hands out
// billing types: no row type leaves this package.
//
// Every query on merchant-owned data is scoped by merchant id and mode. A
// missing row is a billing.ENotFound error, a violated unique key the
// matching billing.EConflict; anything else is wrapped with context.
package store
