package payments

import "time"

// DefaultPGTimeout bounds one PG call when Options.PGTimeout is zero.
const DefaultPGTimeout = 40 * time.Second

// RecordTimeout bounds the writes that record a PG's answer after the call:
// a job that calls the PG needs its PG timeout plus this, at most.
const RecordTimeout = recordTimeout
