package demo_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	iamportsandbox "github.com/billingd/billingd/internal/providers/iamport/sandbox"
)

// The drop-in scripts refuse in the browser what the real SDKs and PGs
// refuse, with the real result shapes: IMP.request_pay's callback gets
// success false and an error_msg; Bootpay's promise rejects with event
// "error"; PortOne's resolves (it never rejects) with a code.
func TestDropInScriptsRefuseBadParams(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := openDemo(t, b)
	code := iamportsandbox.MerchantCode(b.impKey)
	for _, tc := range []struct {
		name, call, want string
	}{
		{"IamportWithoutInit", `new Promise(function (r) { IMP.request_pay({pg: "payco"}, r) })`, "IMP.init"},
		{"IamportNoCustomerUID", fmt.Sprintf(`new Promise(function (r) { IMP.init(%q);
			IMP.request_pay({pg: "payco", pay_method: "card", merchant_uid: "m_1", amount: 0}, r) })`, code), "customer_uid"},
		{"IamportPaycoTrans", fmt.Sprintf(`new Promise(function (r) { IMP.init(%q);
			IMP.request_pay({pg: "payco", pay_method: "trans", merchant_uid: "m_1", customer_uid: "c_1", amount: 0}, r) })`, code), "pay_method 'card'"},
		{"IamportChaiWithoutRedirect", fmt.Sprintf(`new Promise(function (r) { IMP.init(%q);
			IMP.request_pay({pg: "chai", pay_method: "trans", merchant_uid: "m_1", customer_uid: "c_1", amount: 0}, r) })`, code), "m_redirect_url"},
		{"BootpayNoSubscriptionID", fmt.Sprintf(`Bootpay.requestSubscription({application_id: %q, pg: "nicepay", price: 0,
			order_name: "x"}).then(function (r) { return {event: r.event} }, function (e) { return e })`, b.bootpayAppID), "subscription_id"},
		{"BootpayAuthNotDanal", fmt.Sprintf(`Bootpay.requestAuthentication({application_id: %q, pg: "kcp",
			authentication_id: "a_1"}).then(function (r) { return {event: r.event} }, function (e) { return e })`, b.bootpayAppID), "danal"},
		{"PortoneNoStoreID", `PortOne.requestIssueBillingKey({billingKeyMethod: "CARD", channelKey: "channel-key-demo"})`, "storeId"},
		{"PortoneBadMethod", `PortOne.requestIssueBillingKey({storeId: "store-demo", channelKey: "channel-key-demo",
			billingKeyMethod: "BANK"})`, "billingKeyMethod"},
		{"PortoneUnknownStore", `PortOne.requestIssueBillingKey({storeId: "store-nobody", channelKey: "channel-key-demo",
			billingKeyMethod: "CARD", issueId: "i_1"})`, "storeId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Subtests share the tab: run one at a time.
			got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](tc.call, chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatal(err)
			}
			msg := fmt.Sprint(got["error_msg"], got["message"])
			switch {
			case strings.HasPrefix(tc.name, "Iamport") && (got["success"] != false || !strings.Contains(msg, tc.want)):
				t.Fatalf("rsp %v, want success false naming %q", got, tc.want)
			case strings.HasPrefix(tc.name, "Bootpay") && (got["event"] != "error" || !strings.Contains(msg, tc.want)):
				t.Fatalf("rejection %v, want event error naming %q", got, tc.want)
			case strings.HasPrefix(tc.name, "Portone") && (got["code"] != "INVALID_REQUEST" || got["transactionType"] != "ISSUE_BILLING_KEY" || !strings.Contains(msg, tc.want)):
				t.Fatalf("result %v, want code INVALID_REQUEST naming %q", got, tc.want)
			}
		})
	}
}
