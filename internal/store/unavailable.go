package store

import (
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"
)

// Unavailable reports whether err says the database could not be reached
// or is going away, rather than that a statement failed: a refused or
// broken connection, a closed pool, or a server shutting down, starting up
// or out of connections. Such a failure is not the caller's nor a bug of
// ours; the same request may succeed in a moment.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var (
		connect *pgconn.ConnectError
		pgErr   *pgconn.PgError
		netErr  *net.OpError
	)
	switch {
	case errors.As(err, &connect):
		// Whatever the server said while refusing (a database not
		// accepting connections is 55000), no session was had.
		return true
	case errors.As(err, &pgErr):
		// Class 08: connection exception; 57P01–57P03: admin shutdown,
		// crash shutdown, cannot connect now; 53300: too many connections.
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" ||
			pgErr.Code == "57P03" || pgErr.Code == "53300"
	case errors.As(err, &netErr),
		errors.Is(err, puddle.ErrClosedPool), errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return true
	}
	return false
}
