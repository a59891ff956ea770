package payments

import (
	"strings"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/providers"
)

// windowParams builds the exact parameters the frontend passes to the PG's
// payment window to issue the key (reference/iamport.md §9–10,
// reference/bootpay.md §8, reference/portone-v2.md §2), and what its SDK is initialised with.
func windowParams(key billing.BillingKey, account billing.ProviderAccount, customer billing.Customer, in CreateBillingKeyInput, noticeURL string) (params, init map[string]any, err error) {
	name := in.OrderName
	if name == "" {
		name = "정기결제 등록"
	}
	switch key.Provider {
	case providers.Iamport:
		capability, ok := providers.IamportPG(key.PG)
		if !ok {
			return nil, nil, billing.Invalid("pg", "unknown Iamport pg %q", key.PG)
		}
		if capability.RedirectRequired && in.MRedirectURL == "" {
			return nil, nil, billing.Invalid("m_redirect_url", "%s always redirects after its window: m_redirect_url is required", key.PG)
		}
		params = map[string]any{
			"pg":           pgParam(key.PG, account),
			"pay_method":   capability.PayMethod,
			"merchant_uid": key.ID, // the registration's own order id; no money moves
			"customer_uid": key.Alias,
			"name":         name,
			// Display only: issuing a key charges nothing; the first charge
			// is a separate call.
			"amount": in.DisplayAmount,
		}
		if in.MRedirectURL != "" {
			params["m_redirect_url"] = in.MRedirectURL
		}
		addBuyer(params, "buyer_", customer)
		init = map[string]any{}
		if code, ok := account.Settings["imp_code"].(string); ok {
			init["imp_code"] = code
		}
		return params, init, nil

	case providers.Bootpay:
		params = map[string]any{
			"pg":              strings.TrimSpace(key.PG),
			"method":          "card_rebill",
			"order_name":      name,
			"subscription_id": key.Alias,
			"price":           in.DisplayAmount,
		}
		user := map[string]any{}
		if customer.ExternalID != nil {
			user["id"] = *customer.ExternalID
		}
		addBuyer(user, "", customer)
		if len(user) > 0 {
			params["user"] = user
		}
		init = map[string]any{}
		if appID, ok := account.Settings["client_application_id"].(string); ok {
			init["application_id"] = appID
		}
		return params, init, nil

	case providers.Portone:
		return portoneWindowParams(key, account, customer, in, name, noticeURL), map[string]any{}, nil
	}
	return nil, nil, billing.Invalid("provider", "unknown provider %q", key.Provider)
}

// pgParam is the pg as the PG wants it: "pg.MID" when the account names a
// MID for that PG (reference/iamport.md §9.1), else the code alone.
func pgParam(pg string, account billing.ProviderAccount) string {
	if strings.Contains(pg, ".") {
		return pg
	}
	if mids, ok := account.Settings["pg_mids"].(map[string]any); ok {
		if mid, ok := mids[pg].(string); ok && mid != "" {
			return pg + "." + mid
		}
	}
	return pg
}

func addBuyer(m map[string]any, prefix string, c billing.Customer) {
	if c.Name != nil {
		m[prefix+"name"] = *c.Name
	}
	if c.Email != nil {
		m[prefix+"email"] = *c.Email
	}
	if c.Phone != nil {
		key := "tel"
		if prefix == "" {
			key = "phone"
		}
		m[prefix+key] = *c.Phone
	}
}

func buyer(c billing.Customer) providers.Buyer {
	var b providers.Buyer
	if c.Name != nil {
		b.Name = *c.Name
	}
	if c.Email != nil {
		b.Email = *c.Email
	}
	if c.Phone != nil {
		b.Phone = *c.Phone
	}
	return b
}
