package billing

// AuditSummary is what the audit log keeps of a payment: its state,
// amounts and references, never card details, names or metadata (the
// audit package filters it once more by its allow-list). Built from the
// fields, not through JSON: every change to a payment writes one, so it is
// on the charge path.
func (p Payment) AuditSummary() map[string]any {
	m := make(map[string]any, 14)
	m["status"], m["amount"], m["tax_free"], m["currency"] = p.Status, p.Amount, p.TaxFree, p.Currency
	m["refunded_amount"], m["provider"], m["mode"] = p.RefundedAmount, p.Provider, p.Mode
	m["customer_id"], m["billing_key_id"] = p.CustomerID, p.BillingKeyID
	set := func(k string, v *string) {
		if v != nil {
			m[k] = *v
		}
	}
	set("failure_code", p.FailureCode)
	set("pg", p.PG)
	set("provider_payment_id", p.ProviderPaymentID)
	set("subscription_id", p.SubscriptionID)
	if p.ScheduledAt != nil {
		m["scheduled_at"] = *p.ScheduledAt
	}
	return m
}
