// Package portone is billingd's adapter for the PortOne V2 REST API
// (api.portone.io): billing keys (GET/POST/DELETE /billing-keys), charges
// with a key (POST /payments/{paymentId}/billing-key), payment lookups,
// cancels with the currentCancellableAmount checksum, PG-side schedules
// (providers.Scheduler) and the verification of PortOne's Standard Webhooks
// signatures (VerifyWebhook).
//
// It owns the wire format and nothing else. A Client is bound to one store:
// every call carries "Authorization: PortOne <api_secret>" (no token, so
// nothing is ever re-sent), storeId goes in the query or body where the API
// takes it, and channel_key is the default channel for keys issued over
// REST. billingd's payment id is PortOne's paymentId, fixed before the
// call, sent without its underscore (ids.go) and restored on the way back,
// so a payment's ProviderID and OrderID are both billingd's id.
//
// It never stores anything, never logs, and never repeats a call that may
// have moved money: a timeout, a reset, a 5xx without a PortOne error type,
// a 502 that is not the PG's own refusal, or an unreadable reply is
// providers.ErrUnknown and the caller reconciles with FindPayment. Error
// types map to the provider error kinds (classify in client.go);
// PG_PROVIDER keeps the PG's pgCode/pgMessage as the error's code and
// message. Idempotency-Key is deliberately not sent: net/http treats a POST
// carrying it as replayable and could re-send it on a broken connection.
//
// Secrets (the API secret, card data, webhook secrets) never appear in an
// error. Reference: shared/reference/portone-v2.md.
package portone
