// Package iamport is billingd's adapter for the Iamport (PortOne V1) REST API:
// billing keys (customer_uid), charges with a key (subscribe/payments/again),
// payment lookups, cancels and PG-side schedules.
//
// It owns the wire format and nothing else: a Client translates between the
// providers contract and Iamport's {code, message, response} envelope, and
// keeps one access token per account. It never stores anything, never logs,
// and never repeats a call that may have moved money: a timeout, a reset
// after the request was written, a 5xx or an unreadable reply is reported as
// providers.ErrUnknown and the caller reconciles with FindPayment.
//
// The only repeat it ever makes is the single retry after an HTTP 401, and
// only for calls where a second attempt is harmless even if the first one had
// been processed (see request.repeatable).
//
// Secrets (imp_secret, access tokens, card data) never appear in an error.
package iamport
