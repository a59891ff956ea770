package payments

import (
	"strings"

	"github.com/billingd/billingd/internal/billing"
)

// portoneChannel is the PortOne V2 channel a registration issues on: the
// one it names, else the account's channel_key. Its billingKeyMethod is
// checked here too, so a bad one fails before anything is stored.
func portoneChannel(account billing.ProviderAccount, in CreateBillingKeyInput) (string, error) {
	switch in.Method {
	case "", "CARD", "EASY_PAY":
	default:
		return "", billing.Invalid("method", "method must be CARD or EASY_PAY")
	}
	if in.Card != nil && in.Method == "EASY_PAY" {
		return "", billing.Invalid("method", "card data issues a CARD key; EASY_PAY needs the payment window")
	}
	channel := strings.TrimSpace(in.ChannelKey)
	if channel == "" {
		channel = defaultChannel(account)
	}
	if channel == "" || len(channel) > 200 {
		return "", billing.Invalid("channel_key", "channel_key is required (or set channel_key on the portone account)")
	}
	return channel, nil
}

func defaultChannel(account billing.ProviderAccount) string {
	c, _ := account.Settings["channel_key"].(string)
	return strings.TrimSpace(c)
}

// portoneWindowParams are exactly PortOne.requestIssueBillingKey's
// parameters (browser SDK names: customer.customerId, fullName). issueId
// is the registration's id: confirm accepts only a key PortOne issued
// under it, for this customer.
func portoneWindowParams(key billing.BillingKey, account billing.ProviderAccount, customer billing.Customer, in CreateBillingKeyInput, name, noticeURL string) map[string]any {
	method := in.Method
	if method == "" {
		method = "CARD"
	}
	c := map[string]any{"customerId": customer.ID}
	if customer.Name != nil {
		c["fullName"] = *customer.Name
	}
	if customer.Phone != nil {
		c["phoneNumber"] = *customer.Phone
	}
	if customer.Email != nil {
		c["email"] = *customer.Email
	}
	storeID, _ := account.Settings["store_id"].(string)
	params := map[string]any{
		"storeId":          storeID,
		"channelKey":       key.PG,
		"billingKeyMethod": method,
		"issueId":          key.ID,
		"issueName":        name,
		"customer":         c,
		"noticeUrls":       []string{noticeURL},
	}
	if in.MRedirectURL != "" {
		params["redirectUrl"] = in.MRedirectURL
	}
	return params
}
