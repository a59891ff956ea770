// Package billing is billingd's domain: merchants and their keys, customers,
// provider accounts, and (in later work) billing keys, payments and
// subscriptions with their state machines.
//
// It knows nothing about HTTP status codes or SQL. Failures that a caller
// should see are *Error values with a Code; internal/api maps codes to HTTP in
// one place, and anything that is not an *Error is an internal error.
package billing
