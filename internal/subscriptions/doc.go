// Package subscriptions runs recurring billing: a subscription bills one
// payment per period (internal/payments makes it, registered at the PG for
// the period's start), renews itself when a period is paid — from the PG's
// webhook, verified — retries failed periods on the merchant's dunning
// schedule, and can be changed, paused, resumed and canceled.
//
// Every decision about due times uses the injected clock, so the sandbox
// test clock (testclock.go) can run a year of renewals in seconds. Every
// change to a subscription happens under its row lock, so a webhook, a
// retry and a merchant's request never interleave.
package subscriptions
