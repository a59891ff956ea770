// Package sandbox is an in-memory PortOne V2 that speaks the real wire
// protocol: billingd's tests run the portone adapter against it over HTTP,
// and billingd can mount it for test-mode accounts (routes are relative,
// so http.StripPrefix("/sandbox/portone", s) works).
//
// It owns fidelity to shared/reference/portone-v2.md §7 and nothing else:
// no persistence, no knowledge of billingd, no logging. It must never be
// reachable with live credentials.
//
// # What it enforces
//
//   - "Authorization: PortOne <api_secret>" on every API route, else 401
//     UNAUTHORIZED. (The Bearer/access-token form is not served.) Stores
//     are added with AddAccount; a storeId naming another store than the
//     secret's is 403 FORBIDDEN, an absent one means the secret's store.
//   - JSON bodies whatever the Content-Type; list and revoke inputs also
//     as ?requestBody=; path parameters percent-decoded.
//   - Errors are {"type","message"} with the reference's fixed status per
//     type; PG_PROVIDER adds pgCode and pgMessage. Successes are 200.
//   - Validation: missing billingKey/orderName/amount/currency, a
//     non-positive or fractional amount, or a currency other than KRW →
//     400 INVALID_REQUEST; taxFree + vat > total → 409
//     SUM_OF_PARTS_EXCEEDS_TOTAL_AMOUNT. Channel keys are any string
//     "channel-key-…"; others are 404 CHANNEL_NOT_FOUND.
//   - State: one PAID per paymentId (then 409 ALREADY_PAID; a FAILED one may
//     be tried again, GET shows the latest attempt); a paymentId held by a
//     schedule is 409 PAYMENT_SCHEDULE_ALREADY_EXISTS for a charge and 409
//     ALREADY_PAID_OR_WAITING for another schedule; a deleted key blocks
//     charge, schedule and delete (409 BILLING_KEY_ALREADY_DELETED); a key
//     with pending schedules cannot be deleted (409
//     PAYMENT_SCHEDULE_ALREADY_EXISTS).
//   - Cancels: reason required; no amount cancels the balance;
//     currentCancellableAmount, when sent, must equal the balance (409
//     CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN); more than the balance is 409
//     CANCEL_AMOUNT_EXCEEDS_CANCELLABLE_AMOUNT; a cancelled payment 409
//     PAYMENT_ALREADY_CANCELLED; an unpaid one 409 PAYMENT_NOT_PAID.
//     Partial cancels leave PARTIAL_CANCELLED, the last one CANCELLED.
//   - Schedules: timeToPay must be in the future; GET /payment-schedules
//     filters on timeToPay within [from, until], until defaulting to now
//     and from to 90 days before until (future schedules are hidden
//     unless until is set, as at PortOne); DELETE /payment-schedules is all
//     or nothing (unknown id 404, revoked 409 …_ALREADY_REVOKED, run 409
//     …_ALREADY_PROCESSED), and billingKey alone revokes all of its
//     pending schedules.
//   - Webhooks (2024-04-25 body {"type","timestamp","data"}) go to the
//     request's noticeUrls, else the store's console WebhookURL, signed
//     the Standard Webhooks way (webhook-id, webhook-timestamp on the
//     sandbox clock, webhook-signature "v1,<base64 HMAC-SHA256 of
//     id.timestamp.body>" keyed with the base64-decoded whsec_ secret).
//     Sent once, no retries: Transaction.Paid and .Failed on charges and
//     scheduled runs, .PartialCancelled/.Cancelled on cancels,
//     BillingKey.Issued and .Deleted. skipWebhook is honoured.
//
// Not implemented: the Idempotency-Key header (the adapter does not send
// it), /login/api-secret and /token/refresh, billing-key methods other than
// CARD, payments other than billing-key payments.
//
// Routes: GET|DELETE /billing-keys/{billingKey}; POST /billing-keys;
// POST /payments/{paymentId}/billing-key; GET /payments/{paymentId};
// POST /payments/{paymentId}/cancel; POST /payments/{paymentId}/schedule;
// GET /payment-schedules/{scheduleId}; GET|DELETE /payment-schedules.
// Plus the simulated browser window: POST /sandbox/window/billing_keys
// takes what PortOne.requestIssueBillingKey takes (storeId, channelKey,
// billingKeyMethod CARD, issueId, issueName, customer{customerId,
// fullName, phoneNumber, email}, noticeUrls, and the sandbox's cardNumber)
// and answers its result {transactionType:"ISSUE_BILLING_KEY",
// billingKey} — or with code/message (and pgCode/pgMessage) on failure. It
// is keyed by issueId: the same issueId again gives the same key to the
// same customer and 409 ALREADY_ISSUED to another.
//
// # Deterministic outcomes
//
// A charge is decided by the last digit of amount.total. Faults apply only
// to a charge that would be paid, i.e. after the key and the paymentId
// were accepted.
//
//	last digit  what happens                               payment at PortOne  client sees
//	0 1 2 3     approved                                   PAID                200 {payment{pgTxId, paidAt}}
//	4           declined by the PG ("잔액부족", pgCode 51)  FAILED              502 PG_PROVIDER with pgCode/pgMessage
//	5           approved; reply held until the client      PAID                a timeout
//	            gives up (Options.SlowReply, default 2 min)
//	6           approved; then the server fails            PAID                500 {type: INTERNAL_SERVER_ERROR}
//	7           the gateway fails before PortOne           none                502 (HTML)
//	8           approved; reply cut in half                PAID                200, unreadable JSON
//	9           approved; connection dropped, no reply     PAID                connection reset / EOF
//
// For every faulty digit but 7 the payment IS paid: GET /payments/{id}
// reports it and Transaction.Paid is sent. Scheduled runs (RunDue) use 4
// for FAILED and treat 5–9 as paid; a run whose key was deleted fails.
//
// Cards (REST issuance, the window): a number ending in 0000 is refused
// by the PG (REST: 502 PG_PROVIDER pgCode F113; window: code
// FAILURE_TYPE_PG); others are masked as BIN + asterisks + last four.
//
// # Test helpers
//
// Now, Advance and RunDue (a test clock calls Advance then RunDue), Calls,
// Attempts, SetPaymentStatus (statuses the sandbox never produces itself),
// SetWebhooksEnabled, WebhooksDelivered. Close waits for webhooks in flight.
package sandbox
