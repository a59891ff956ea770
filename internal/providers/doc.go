// Package providers is billingd's contract with payment gateways (PGs).
//
// It owns the types that cross the boundary between billingd's money logic and
// a PG adapter — billing keys, charges, payments, cancellations — and the typed
// errors that logic branches on. Adapters live in sub-packages (iamport,
// bootpay, portone), each with a wire-faithful fake of its PG beneath it
// (…/sandbox); the sandbox package bundles those fakes.
//
// An adapter is a stateless translator between these types and one PG's wire
// format (apart from its access-token cache). It must never import billingd's
// domain or store packages, never persist anything, and never retry a call
// that may have moved money: a money-moving call whose outcome is not known
// reports ErrUnknown and the caller reconciles.
package providers
