package api

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/providers"
	"github.com/billingd/billingd/internal/providers/portone"
)

// portoneBundle is a merchant with a PortOne V2 test account on the
// built-in sandbox, and a customer.
type portoneBundle struct {
	*payBundle
	secret, whsec, storeID, channel string
}

func setupPortone(t *testing.T) *portoneBundle {
	return setupPortoneWith(t, bundleOpts{})
}

func setupPortoneWith(t *testing.T, o bundleOpts) *portoneBundle {
	t.Helper()
	b := setupWith(t, o)
	n := keyCounter.Add(1)
	pb := &portoneBundle{payBundle: &payBundle{testBundle: b, m: b.newMerchant(t)},
		secret:  fmt.Sprintf("portone-api-secret-%d", n),
		whsec:   "whsec_" + base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("webhook-secret-%032d", n))),
		storeID: fmt.Sprintf("store-%08d-0000-0000-0000-000000000000", n), channel: "channel-key-default"}
	acct := b.do(t, request{method: "POST", path: "/admin/v1/merchants/" + pb.m.id + "/provider_accounts", auth: testAdminToken,
		body: map[string]any{"provider": "portone", "mode": "test",
			"credentials": map[string]any{"api_secret": pb.secret, "webhook_secret": pb.whsec},
			"settings":    map[string]any{"store_id": pb.storeID, "channel_key": pb.channel}}})
	requireStatus(t, acct, http.StatusCreated)
	pb.accountID = acct.str("id")
	pb.customer = pb.newCustomer(t, "user-1")
	return pb
}

func (b *portoneBundle) newCustomer(t *testing.T, external string) string {
	t.Helper()
	c := b.do(t, request{method: "POST", path: "/v1/customers", auth: b.m.secret, body: map[string]any{
		"external_id": external, "name": "홍길동", "email": "hong@example.com", "phone": "01012345678"}})
	requireStatus(t, c, http.StatusCreated)
	return c.str("id")
}

// window does what PortOne.requestIssueBillingKey does in the customer's
// browser with the client_params billingd handed out, and returns the
// billingKey the SDK would return.
func (b *portoneBundle) window(t *testing.T, reg response) string {
	t.Helper()
	body, _ := json.Marshal(reg.body["client_params"])
	resp, err := http.Post(b.url+"/sandbox/portone/sandbox/window/billing_keys", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		BillingKey string `json:"billingKey"`
		Code       string `json:"code"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != http.StatusOK || out.BillingKey == "" {
		t.Fatalf("window: %d %s", resp.StatusCode, out.Code)
	}
	return out.BillingKey
}

func (b *portoneBundle) register(t *testing.T, customer string) response {
	t.Helper()
	return b.startRegistration(t, map[string]any{"provider": "portone", "customer_id": customer})
}

func (b *portoneBundle) confirm(t *testing.T, id, billingKey string) response {
	t.Helper()
	return b.do(t, request{method: "POST", path: "/v1/billing_keys/" + id + "/confirm", auth: b.m.secret,
		body: map[string]any{"billing_key": billingKey}})
}

// key registers and confirms a key of the bundle's customer through the window.
func (b *portoneBundle) key(t *testing.T) string {
	t.Helper()
	reg := b.register(t, b.customer)
	r := b.confirm(t, reg.str("id"), b.window(t, reg))
	requireStatus(t, r, http.StatusOK)
	return r.str("id")
}

// hook posts a PortOne webhook signed with secret (none when empty) at
// time at.
func (b *portoneBundle) hook(t *testing.T, secret string, at time.Time, body string) response {
	t.Helper()
	id := fmt.Sprintf("msg_%d", keyCounter.Add(1))
	ts := strconv.FormatInt(at.Unix(), 10)
	h := map[string]string{}
	if secret != "" {
		key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id + "." + ts + "." + body))
		h = map[string]string{"webhook-id": id, "webhook-timestamp": ts,
			"webhook-signature": "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))}
	}
	return b.do(t, request{method: "POST", path: "/webhooks/portone/" + b.accountID, body: body, header: h})
}

// paidHook is Transaction.Paid as PortOne sends it, naming the paymentId
// billingd sent for payment id.
func paidHook(id string) string {
	paymentID := portone.WirePaymentID(id)
	return fmt.Sprintf(`{"type":"Transaction.Paid","timestamp":"2024-04-25T10:00:00.000Z","data":{"paymentId":%q,"storeId":"s","transactionId":"t1"}}`, paymentID)
}

func mustKey(t *testing.T, b *payBundle, id string) billing.BillingKey {
	t.Helper()
	k, err := b.store.GetBillingKey(t.Context(), b.m.id, billing.ModeTest, id)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func verifyReq(key string) providers.VerifyBillingKeyRequest {
	return providers.VerifyBillingKeyRequest{Key: key}
}
