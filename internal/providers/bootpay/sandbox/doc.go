// Package sandbox is an in-memory, wire-faithful fake of Bootpay's server
// REST API, for tests and for billingd's dev/test mode. It speaks v1 at
// its root (envelope {status, code, message, data}, bare-token
// Authorization) and v2 under /v2 (bare objects, {error_code, message,
// pg_error_code} failures, Bearer tokens or key-pair Basic auth). Every
// route is relative: mount it under any prefix with http.StripPrefix, e.g.
// /sandbox/bootpay, and point the adapter at …/sandbox/bootpay/v2 (or the
// prefix itself for v1).
//
// It enforces the reference (shared/reference/bootpay.md): 30-minute
// tokens reused within 25 minutes (also at /request/token.json), 401 for a
// missing, malformed or expired token, one-hour user tokens, a 30-minute
// certificate lookup window, one paid payment per order_id, cancel_id used
// once per receipt, at most 10 (v2) / 5 (v1) reservations per billing key,
// and webhooks that must be acknowledged ({"success":true} for v2, "OK" for
// v1) or are retried (10 attempts, back-off from 200 ms).
//
// It never logs, and it is not Bootpay's API: sandbox-only routes live
// under /sandbox/window, plus the browser side (browser.go): GET
// /bootpay.js, a drop-in for Bootpay's JS SDK (requestSubscription,
// requestAuthentication), and GET /sandbox/checkout, the window it opens.
//
// # Deterministic behaviours
//
// Charges (v2 POST /v2/subscribe/payment, v1 POST /subscribe/billing) and
// reservation runs (RunDue) behave by the last digit of the price:
//
//	price ends in | charge reply                                     | recorded                   | reservation run
//	--------------+--------------------------------------------------+----------------------------+-----------------------
//	3             | 200, receipt status 3 (approving), never settles | receipt, status 3          | status 2 (error)
//	4             | decline: v2 400 SUBSCRIBE_PAYMENT_FAILED,        | receipt, status -2 (the    | status 2 (error)
//	              |   pg_error_code "51"; v1 500, code -15006, data  |   order_id may be retried) |
//	              |   {ResultCode:"51"} when extra.raw_data=1        |                            |
//	5             | lost reply: held for Options.SlowReply (35 s)    | paid, webhook sent         | paid, webhook sent
//	              |   or until the client gives up, then 200         |                            |
//	6             | 500 (v2 INTERNAL_SERVER_ERROR, v1 code -1,       | paid, webhook sent         | paid, webhook sent
//	              |   data null)                                     |                            |
//	7             | 502, HTML body, as from a gateway                | nothing                    | status 2, no receipt
//	anything else | 200, receipt status 1                            | paid, webhook sent         | paid, webhook sent
//
// Other deterministic inputs:
//
//	card number ending in 0004 (REST issuance or window) | v2 400 SUBSCRIBE_PUBLISH_FAILED, pg_error_code F113;
//	                                                     |   v1 500, code -15005, data {ResultCode:"F113"}
//	certificate receipt_id ending in "dead"              | lookup refused: v2 400 AUTH_EXPIRED, v1 400 code -2501
//	certificate receipt_id ending in "0bad"              | verification not completed: v2 status 0, v1 status 0,
//	                                                     |   no identity
//	certificate looked up > 30 min after verification    | as "dead" (sandbox clock, see Advance)
//
// The window endpoints mint such ids: POST /sandbox/window/certifications
// with "expired": true or "not_verified": true.
//
// Fault toggles beyond the amount table: LoseReserveReplies (a reservation
// is recorded and will run, but its reply is a 500, so its reserve_id is
// never seen) and SetWebhooksEnabled(false) (feedback webhooks are dropped).
//
// Error codes the public material does not name (ORDER_ID_DUPLICATED,
// CANCEL_ID_DUPLICATED, BILLING_KEY_NOT_FOUND, RECEIPT_NOT_FOUND, …) are
// this sandbox's own; what callers may rely on is the HTTP status and
// the presence of pg_error_code, as the adapter does.
package sandbox
