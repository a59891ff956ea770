// Package bootpay is billingd's adapter for Bootpay's server REST API, both
// the current v2 (bare JSON objects, error_code, Bearer token) and the
// legacy v1 (status/code/message/data envelope, bare-token Authorization).
//
// It owns the wire format only: requests, replies, time and amount
// decoding, and the classification of every failure into the providers
// error kinds. It never logs, never persists, and never puts tokens, the
// private key, card data or identity fields in an error.
//
// Money-moving calls (Charge, Reserve, Cancel, CancelReserve) are sent
// exactly once. A reply that is lost, late, 5xx or unreadable is
// providers.ErrUnknown; the only resend is after a 401 from Bootpay's
// authentication check, which proves the first request was not executed.
// A request that provably never left (dial failure, no token) wraps
// ErrNotSent.
//
// Decisions on points the public material leaves open
// (reference/bootpay.md §13) are documented where they are made:
// envelope.go (error classification), token.go (token reuse),
// payments.go (no lookup by order_id), certificate.go (CI/DI, status).
package bootpay
