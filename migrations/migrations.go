// Package migrations embeds billingd's golang-migrate SQL files so the binary
// carries its own schema. Files are numbered 000001_name.{up,down}.sql; each
// runs as one transaction, so CREATE INDEX CONCURRENTLY must stand alone.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
