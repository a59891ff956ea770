// Package sandbox is an in-memory Iamport (PortOne V1) that speaks the real
// wire protocol: billingd's tests run the iamport adapter against it over
// HTTP, and billingd mounts it in dev/test mode (routes are relative, so
// http.StripPrefix("/sandbox/iamport", s) works).
//
// It owns fidelity to shared/reference/iamport.md §12 and nothing else: no
// persistence (everything is lost with the process), no knowledge of
// billingd. It must never be reachable with live credentials.
//
// # What it enforces
//
//   - POST /users/getToken with a JSON or form body; wrong credentials → 401
//     with an envelope. A token lives 30 minutes; asking again returns the
//     same token, pushed out by 5 minutes when asked in its last minute; a
//     new one after expiry. All measured on the sandbox clock (Options.Now
//     plus Advance).
//   - Every other API route needs "Authorization: Bearer <t>", a bare
//     "Authorization: <t>" or "X-ImpTokenHeader: <t>"; missing, unknown or
//     expired → 401 {code:-1}.
//   - JSON or urlencoded bodies (arrays as k[] or JSON arrays; schedule
//     objects as schedules[0][field] or JSON); an optional trailing slash.
//   - Every reply is {code, message, response}: message null on success,
//     response null on errors; Korean messages as the reference quotes them
//     (texts the reference marks UNCONFIRMED are plausible inventions).
//   - Data is partitioned per imp_key (AddAccount), like separate merchants.
//
// Routes: GET|POST|DELETE /subscribe/customers/{customer_uid};
// GET /subscribe/customers?customer_uid[]=… (200, 207 when some are missing, 404);
// POST /subscribe/payments/again; POST /subscribe/payments/schedule;
// POST /subscribe/payments/unschedule; GET /subscribe/payments/schedule/{merchant_uid};
// GET /payments/{imp_uid} (sandbox payments are test-channel payments: they
// are returned only with ?include_sandbox=true, as SPEC says);
// GET /payments/find/{merchant_uid}[/{payment_status}]; POST /payments/cancel.
// Plus the simulated payment window: GET /sandbox/window (an HTML page) and
// POST /sandbox/window/billing_keys (what the page posts). And the browser
// side (browser.go): GET /iamport.js, a drop-in for Iamport's SDK (IMP.init,
// IMP.request_pay), and GET /sandbox/checkout, the window it opens; the
// merchant code IMP.init takes is MerchantCode(imp_key).
//
// # Decisions on the reference's open points (§11)
//
//   - Unknown customer_uid on GET/DELETE: HTTP 404 with code 1 by default,
//     switchable to HTTP 200 with code 1 (SetCustomerNotFoundMode).
//   - again with an unknown customer_uid: HTTP 200, code 1 "등록되지 않은 구매자입니다.".
//   - again with a merchant_uid already paid (or cancelled after being paid,
//     or held by a pending schedule): HTTP 200, code 1. A failed merchant_uid
//     may be tried again; find returns the newest attempt.
//   - name is not required on again; currency defaults to KRW (only KRW).
//   - POST /subscribe/customers for a window-only PG (payco, chai, kakaopay,
//     kicc): HTTP 200, code 1 "비인증결제모듈 사용정보를 찾을 수 없습니다.". A
//     missing or unknown pg means the account's default PG, nice.
//   - Cancel: checksum, when sent, must equal the refundable balance, else
//     code 1; nothing cancellable → code 1 "취소할 결제건이 존재하지 않습니다.";
//     already fully cancelled → code 1. A full cancel sets status cancelled;
//     a partial one keeps paid and raises cancel_amount. cancelled_at is the
//     latest cancel. No webhook unless enable_webhook=true.
//   - Deleting a key does not revoke its schedules; they fail when due.
//   - Webhooks: Content-Type per Options.WebhookFormat (json by default),
//     sent once, no retries, no signature; on paid (again, scheduled runs)
//     and failed scheduled runs, never on ordinary declines. The billing-key
//     window sends none.
//   - Scheduled payments get imp_uid prefix "imps_", others "imp_".
//   - schedule_at must be in the future; one bad item refuses the request.
//
// # Deterministic outcomes
//
// A charge (again) is decided by the last digit of its amount. Faults apply
// only to a charge that would be paid, i.e. after the key and the
// merchant_uid were accepted.
//
//	last digit  what happens                               payment at the PG  client sees
//	0 1 2 3     approved                                   paid               200, status paid
//	4           declined, fail_reason "잔액부족"            failed             200, code 0, status failed
//	5           approved; reply held until the client      paid               a timeout
//	            gives up (Options.SlowReply, default 2 min)
//	6           approved; then the server fails            paid               500 {code:-1}
//	7           the gateway fails before the PG            none               502 (HTML)
//	8           approved; reply cut in half                paid               200, unreadable JSON
//	9           approved; connection dropped, no reply     paid               connection reset / EOF
//
// Mnemonic: below 4 is fine, 4 is "no money", from 5 up the reply goes
// wrong, and only 7 loses nothing. For every faulty digit but 7 the payment
// IS paid: find by merchant_uid reports it, and the paid webhook is sent.
// Scheduled runs use the same digits for 4 (failed) and treat 5–9 as paid.
//
// Card numbers (REST issuance, the window, schedule with card data): one
// ending in 0000 is refused; other 13–19 digit numbers are accepted and
// masked as first 6 + asterisks + last 4. Expiry must be YYYY-MM (or
// YYYYMM) and not past.
//
// # Test helpers
//
// TokenIssued, Calls, TotalCalls, Payment, PaymentsByOrder, Customer, Now,
// Advance and RunDue (a test clock calls Advance then RunDue), and
// SetCustomerNotFoundMode; fault switches SetSlowReply and SetFindFailure,
// and for the schedule routes HoldNextSchedule (a registration held in
// flight, recorded only when released) and FailUnschedule (unschedule
// answers 500 having revoked nothing). Close waits for webhooks in flight.
package sandbox
