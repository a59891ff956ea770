// Package api is billingd's HTTP surface: the chi router, authentication,
// idempotency, request limits, error rendering, and the OpenAPI document
// with its docs UI.
//
// Handlers translate HTTP to calls on billing, admin and store and back;
// they hold no business rules. Every error reaches the client through
// renderError (errors.go), the one place that maps billing error codes to
// HTTP statuses. Request bodies, Authorization headers and keys are never
// logged.
package api
