package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
)

// bootpayBundle is a merchant with a Bootpay test account (v2, or v1 for a
// legacy merchant) on the sandbox, and a customer.
type bootpayBundle struct {
	*payBundle
	appID   string
	version string
}

func setupBootpay(t *testing.T, version string) *bootpayBundle {
	t.Helper()
	b := setupWith(t, bundleOpts{})
	bb := &bootpayBundle{payBundle: &payBundle{testBundle: b, m: b.newMerchant(t)}, version: version}
	bb.appID = fmt.Sprintf("bp_app_%d", keyCounter.Add(1))
	settings := map[string]any{"default_pg": "nicepay", "client_application_id": bb.appID}
	if version == "v1" {
		settings["api_version"] = "v1"
	}
	acct := b.do(t, request{method: "POST", path: "/admin/v1/merchants/" + bb.m.id + "/provider_accounts", auth: testAdminToken,
		body: map[string]any{"provider": "bootpay", "mode": "test", "settings": settings,
			"credentials": map[string]any{"application_id": bb.appID, "private_key": "sandbox-private-" + bb.appID}}})
	requireStatus(t, acct, http.StatusCreated)
	bb.accountID = acct.str("id")
	c := b.do(t, request{method: "POST", path: "/v1/customers", auth: bb.m.secret, body: map[string]any{
		"external_id": "member-1", "name": "김철수", "email": "kim@example.com", "phone": "01098765432"}})
	requireStatus(t, c, http.StatusCreated)
	bb.customer = c.str("id")
	return bb
}

// key registers a key: through Bootpay's (sandbox) window, confirmed with
// the receipt_id the window hands the frontend (v2), or over REST with card
// data (v1 has no lookup to confirm a window-issued key with).
func (b *bootpayBundle) key(t *testing.T) string {
	t.Helper()
	if b.version == "v1" {
		refused := b.do(t, request{method: "POST", path: "/v1/billing_keys", auth: b.m.secret,
			body: map[string]any{"customer_id": b.customer, "provider": "bootpay"}})
		requireStatus(t, refused, http.StatusBadRequest)
		r := b.do(t, request{method: "POST", path: "/v1/billing_keys", auth: b.m.secret, body: map[string]any{
			"customer_id": b.customer, "provider": "bootpay", "pg": "nicepay",
			"card": map[string]any{"number": "5570000000001234", "expiry": "2031-06", "birth": "880101", "pwd_2digit": "00"}}})
		requireStatus(t, r, http.StatusCreated)
		return r.str("id")
	}
	reg := b.startRegistration(t, map[string]any{"provider": "bootpay"})
	params := reg.body["client_params"].(map[string]any)
	if params["subscription_id"] != reg.str("customer_uid") || params["method"] != "card_rebill" || params["pg"] != "nicepay" {
		t.Fatalf("Bootpay client_params %v", params)
	}
	body, _ := json.Marshal(map[string]any{"application_id": b.appID, "pg": "nicepay", "subscription_id": params["subscription_id"]})
	resp, err := http.Post(b.url+"/sandbox/bootpay/sandbox/window/billing_keys", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var win struct {
		ReceiptID string `json:"receipt_id"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&win)
	resp.Body.Close()
	if win.ReceiptID == "" {
		t.Fatalf("the sandbox window gave no receipt_id (%d)", resp.StatusCode)
	}
	missing := b.do(t, request{method: "POST", path: "/v1/billing_keys/" + reg.str("id") + "/confirm", auth: b.m.secret})
	requireStatus(t, missing, http.StatusBadRequest)
	ok := b.do(t, request{method: "POST", path: "/v1/billing_keys/" + reg.str("id") + "/confirm", auth: b.m.publishable,
		body: map[string]any{"client_secret": reg.str("client_secret"), "receipt_id": win.ReceiptID}})
	requireStatus(t, ok, http.StatusOK)
	if ok.str("status") != "active" {
		t.Fatalf("confirmed %s", ok.raw)
	}
	return reg.str("id")
}

func TestBootpayKeysAndPayments(t *testing.T) {
	t.Parallel()
	for _, version := range []string{"v2", "v1"} {
		t.Run(version, func(t *testing.T) {
			t.Parallel()

			t.Run("WindowKeyChargeRefund", func(t *testing.T) {
				t.Parallel()
				b := setupBootpay(t, version)
				key := b.key(t)
				p := b.charge(t, "bp-1", map[string]any{"billing_key_id": key, "amount": 15000, "order_name": "정기결제"})
				requireStatus(t, p, http.StatusCreated)
				if p.str("status") != "paid" || p.str("provider_payment_id") == "" {
					t.Fatalf("payment %s", p.raw)
				}
				if n := b.sandbox.Bootpay.PaidCount(b.appID, p.str("id")); n != 1 {
					t.Fatalf("the PG has %d paid receipts for order %s", n, p.str("id"))
				}
				r := b.do(t, request{method: "POST", path: "/v1/payments/" + p.str("id") + "/cancel", auth: b.m.secret,
					body: map[string]any{"amount": 5000, "reason": "partial"}, header: map[string]string{"Idempotency-Key": "bp-r1"}})
				requireStatus(t, r, http.StatusCreated)
				if r.body["payment"].(map[string]any)["status"] != "partially_refunded" {
					t.Fatalf("refund %s", r.raw)
				}
			})

			t.Run("Declined", func(t *testing.T) {
				t.Parallel()
				b := setupBootpay(t, version)
				key := b.key(t)
				r := b.charge(t, "bp-d", map[string]any{"billing_key_id": key, "amount": 15004, "order_name": "x"})
				requireStatus(t, r, http.StatusPaymentRequired)
			})

			t.Run("LostReplySettledByTheFeedbackWebhook", func(t *testing.T) {
				t.Parallel()
				b := setupBootpay(t, version)
				key := b.key(t)
				// Bootpay cannot look payments up by order id: the receipt_id
				// the webhook carries is what settles a lost reply.
				r := b.charge(t, "bp-lost", map[string]any{"billing_key_id": key, "amount": 15006, "order_name": "x"})
				// The sandbox sends the webhook as it approves, before its
				// 500: on a busy machine the webhook's verification may
				// settle the payment before the charge records "unknown"
				// (201). Either way only the webhook can have made it paid.
				if r.status != http.StatusCreated {
					requireStatus(t, r, http.StatusAccepted)
				}
				list := b.waitForOutcomes(t, 1)
				if *list[0].Outcome != "applied" {
					t.Fatalf("outcome %s", *list[0].Outcome)
				}
				if got := b.paymentStatus(t, r.str("id")); got != "paid" {
					t.Fatalf("payment %s after the webhook", got)
				}
			})

			t.Run("RESTIssuance", func(t *testing.T) {
				t.Parallel()
				b := setupBootpay(t, version)
				r := b.do(t, request{method: "POST", path: "/v1/billing_keys", auth: b.m.secret, body: map[string]any{
					"customer_id": b.customer, "provider": "bootpay", "pg": "nicepay",
					"card": map[string]any{"number": "5570000000001234", "expiry": "2031-06", "birth": "880101", "pwd_2digit": "00"}}})
				requireStatus(t, r, http.StatusCreated)
				if r.str("status") != "active" {
					t.Fatalf("REST issuance %s", r.raw)
				}
				del := b.do(t, request{method: "DELETE", path: "/v1/billing_keys/" + r.str("id"), auth: b.m.secret})
				requireStatus(t, del, http.StatusOK)
			})
		})
	}
}

func TestBootpayWebhookReplies(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		version, contentType, body, wantBody string
	}{
		{"v2", "application/json", `{"receipt_id":"62b4f2f8d01c7e001f1c0a11","order_id":"pay_x","status":1,"webhook_type":"PAYMENT_COMPLETE"}`, `{"success":true}`},
		{"v1", "application/x-www-form-urlencoded", `receipt_id=62b4f2f8d01c7e001f1c0a11&order_id=pay_x&status=1&private_key=leaked`, `OK`},
	} {
		t.Run(tt.version, func(t *testing.T) {
			t.Parallel()
			b := setupBootpay(t, tt.version)
			for range 2 {
				r := b.do(t, request{method: "POST", path: "/webhooks/bootpay/" + b.accountID, body: tt.body, contentType: tt.contentType})
				requireStatus(t, r, http.StatusOK)
				if got := string(bytes.TrimSpace(r.raw)); got != tt.wantBody {
					t.Fatalf("reply %q, want %q", got, tt.wantBody)
				}
			}
			list := b.waitForOutcomes(t, 1)
			if len(list) != 1 || list[0].ReceivedCount != 2 || *list[0].Outcome != "flagged_unknown_to_pg" {
				t.Fatalf("notifications %+v", list)
			}
			if _, ok := list[0].Payload["private_key"]; ok {
				t.Fatal("the v1 notification's echoed private key was stored")
			}
		})
	}
}
