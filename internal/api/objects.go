package api

import "github.com/billingd/billingd/internal/billing"

// The public shape of each domain object is its own JSON (json tags on
// the billing types) plus "object", the type name, as merchants expect
// from Stripe-like APIs.

type paymentJSON struct {
	Object string `json:"object"`
	billing.Payment
	Refunds []refundJSON `json:"refunds,omitempty"`
}

type refundJSON struct {
	Object string `json:"object"`
	billing.Refund
}

type billingKeyJSON struct {
	Object string `json:"object"`
	billing.BillingKey
	// Only in the response that starts a registration.
	ClientSecret *string        `json:"client_secret,omitempty"`
	ClientParams map[string]any `json:"client_params,omitempty"`
	ClientInit   map[string]any `json:"client_init,omitempty"`
}

func toPaymentJSON(p billing.Payment) paymentJSON {
	if p.Metadata == nil {
		p.Metadata = map[string]any{}
	}
	return paymentJSON{Object: "payment", Payment: p}
}

func toRefundJSON(r billing.Refund) refundJSON { return refundJSON{Object: "refund", Refund: r} }

func toBillingKeyJSON(k billing.BillingKey) billingKeyJSON {
	return billingKeyJSON{Object: "billing_key", BillingKey: k}
}

// publicObject renders an object carried by an error.
func publicObject(objectType string, v any) any {
	switch o := v.(type) {
	case billing.Payment:
		return toPaymentJSON(o)
	case billing.Refund:
		return toRefundJSON(o)
	case billing.BillingKey:
		return toBillingKeyJSON(o)
	}
	return v
}
