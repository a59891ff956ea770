// Package payments is billingd's money logic: registering billing keys,
// charging them, refunding, reconciling outcomes that were lost, and
// applying PG notifications. It orchestrates internal/store (each atomic
// phase one short transaction) and the PG adapters (through
// internal/gateways), with the rules of internal/billing.
//
// Its invariants:
//   - A payment's id is the PG order id and is stored before the PG is
//     called; the PG call sits between two short transactions.
//   - A timeout, reset or 5xx is "unknown", never "failed": a job asks the
//     PG later (reconcile.go) and only the PG's own answer settles it.
//   - PG notifications are hints: they are stored, then verified by asking
//     the PG's API; only its answer changes state.
//   - Transitions only move forward, and every one writes an event in the
//     same transaction.
//
// It is not in internal/billing because store hands out billing types:
// billing stays a dependency-free domain, and this package sits above both.
package payments
