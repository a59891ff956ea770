// Package webhooks delivers billingd's events to merchants' endpoints, the
// Standard Webhooks way (https://www.standardwebhooks.com): each delivery
// is a POST of the event's JSON with webhook-id (the delivery's id, the
// same on every retry), webhook-timestamp and webhook-signature
// ("v1,<base64 HMAC-SHA256 of id.timestamp.body>", one per valid secret
// while a rotation overlaps).
//
// It owns the signing secrets' format (secret.go), the signature
// (signature.go), the egress guard that keeps deliveries off private
// networks (guard.go), the retry schedule as data (schedule.go) and one
// attempt of one delivery (deliverer.go). River runs the attempts
// (internal/jobs); internal/store keeps the state.
//
// It must never log or record a secret, follow a redirect, or reach an
// address the guard refuses.
package webhooks
