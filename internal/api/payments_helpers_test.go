package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/providers"
)

// payBundle is a merchant with an Iamport test account on the sandbox and a
// customer, ready to register keys and charge them.
type payBundle struct {
	*testBundle
	m         merchantKeys
	accountID string
	impKey    string
	customer  string
}

var keyCounter atomic.Int64

func setupPayments(t testing.TB) *payBundle {
	return setupPaymentsWith(t, bundleOpts{})
}

func setupPaymentsWith(t testing.TB, o bundleOpts) *payBundle {
	t.Helper()
	b := setupWith(t, o)
	pb := &payBundle{testBundle: b, m: b.newMerchant(t)}
	pb.impKey = fmt.Sprintf("imp_test_key_%d", keyCounter.Add(1))
	acct := b.do(t, request{method: "POST", path: "/admin/v1/merchants/" + pb.m.id + "/provider_accounts", auth: testAdminToken,
		body: map[string]any{"provider": "iamport", "mode": "test",
			"credentials": map[string]any{"imp_key": pb.impKey, "imp_secret": "sandbox-secret-" + pb.impKey},
			"settings":    map[string]any{"imp_code": "imp00000000", "default_pg": "payco"}}})
	requireStatus(t, acct, http.StatusCreated)
	pb.accountID = acct.str("id")
	c := b.do(t, request{method: "POST", path: "/v1/customers", auth: pb.m.secret, body: map[string]any{
		"external_id": "user-1", "name": "홍길동", "email": "hong@example.com", "phone": "01012345678"}})
	requireStatus(t, c, http.StatusCreated)
	pb.customer = c.str("id")
	return pb
}

// startRegistration begins a window registration for pg.
func (b *payBundle) startRegistration(t testing.TB, body map[string]any) response {
	t.Helper()
	if body["customer_id"] == nil {
		body["customer_id"] = b.customer
	}
	if body["provider"] == nil {
		body["provider"] = "iamport"
	}
	r := b.do(t, request{method: "POST", path: "/v1/billing_keys", auth: b.m.secret, body: body})
	requireStatus(t, r, http.StatusCreated)
	return r
}

// completeWindow does what the customer does in the PG's window: submit
// the client_params billingd handed out (plus the merchant's imp_key, which
// IMP.init carries in reality).
func (b *payBundle) completeWindow(t testing.TB, reg response, cardNumber string) int {
	t.Helper()
	params := reg.body["client_params"].(map[string]any)
	form := map[string]any{"imp_key": b.impKey}
	for k, v := range params {
		form[k] = v
	}
	if cardNumber != "" {
		form["card_number"] = cardNumber
	}
	body, _ := json.Marshal(form)
	resp, err := http.Post(b.url+"/sandbox/iamport/sandbox/window/billing_keys", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		reply, _ := io.ReadAll(resp.Body)
		t.Logf("window: %d %s", resp.StatusCode, reply)
	}
	return resp.StatusCode
}

// activeKey registers a key through the window and confirms it.
func (b *payBundle) activeKey(t testing.TB, pg string) string {
	t.Helper()
	body := map[string]any{"pg": pg}
	if pg == "chai" {
		body["m_redirect_url"] = "https://shop.example.com/done"
	}
	reg := b.startRegistration(t, body)
	if code := b.completeWindow(t, reg, ""); code != http.StatusOK {
		t.Fatalf("window answered %d", code)
	}
	id := reg.str("id")
	confirmed := b.do(t, request{method: "POST", path: "/v1/billing_keys/" + id + "/confirm", auth: b.m.secret})
	requireStatus(t, confirmed, http.StatusOK)
	return id
}

// charge posts a payment with an idempotency key.
func (b *payBundle) charge(t testing.TB, key string, body map[string]any) response {
	t.Helper()
	return b.do(t, request{method: "POST", path: "/v1/payments", auth: b.m.secret, body: body,
		header: map[string]string{"Idempotency-Key": key}})
}

// pgCalls counts the sandbox's calls of one route.
func (b *payBundle) pgCalls(route string) int { return b.sandbox.Iamport.Calls(route) }

// eventTypes lists the event types recorded for an object, oldest first.
func (b *payBundle) eventTypes(t *testing.T, objectID string) []string {
	t.Helper()
	events, err := b.store.EventsFor(t.Context(), b.m.id, "test", objectID)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range events {
		types = append(types, e.Type)
	}
	return types
}

func mustAccount(t *testing.T, b *payBundle) billing.ProviderAccount {
	t.Helper()
	a, err := b.store.GetProviderAccount(t.Context(), b.accountID)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func cancelRequest(impUID string, amount int64) providers.CancelRequest {
	return providers.CancelRequest{ProviderID: impUID, Amount: amount, Reason: "console"}
}
