// Package identity owns billingd's two Bootpay identity flows: user tokens
// for Bootpay's easy/password subscription window (seed flow 1) and
// identity certifications, 본인인증 (seed flow 2). It decides which
// customer data Bootpay is told, when a cached user token may be handed out
// again, whether a certificate is complete, unused and meets the merchant's
// requirements, and links a verified person to a customer. It orchestrates
// internal/store and the Bootpay adapter (through internal/gateways) with
// the rules of internal/billing; internal/api only decodes, calls and
// renders.
//
// What it must never do:
//   - log identity fields (name, phone, birth, gender, carrier, CI, DI) or
//     user tokens, or put them in an error: a failed PG call is logged with
//     its kind, op and provider_code only;
//   - return identity fields except through the explicit secret-key view: a
//     caller without a secret key gets a certification with its Identity
//     and PersonID zeroed;
//   - store an identity or a user token unsealed: both go to internal/store,
//     which seals them, and nothing here writes them anywhere else.
package identity
