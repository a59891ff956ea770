package api

import (
	"net/http"
	"testing"
)

// TestDeletingAProviderAccountThatPaymentsNeed: while an account has a
// payment whose outcome is unknown, or one that can still be refunded,
// deleting it is refused (reconciling and refunding go through it); once
// they are settled and refunded, it goes.
func TestDeletingAProviderAccountThatPaymentsNeed(t *testing.T) {
	t.Parallel()
	b := setupPaymentsWith(t, bundleOpts{noJobs: true})
	b.sandbox.Iamport.SetWebhooksEnabled(false)
	key := b.activeKey(t, "payco")
	del := func() response {
		return b.do(t, request{method: "DELETE", path: "/admin/v1/provider_accounts/" + b.accountID, auth: testAdminToken})
	}
	refuse := func(why string) {
		t.Helper()
		r := del()
		requireStatus(t, r, http.StatusConflict)
		if r.errorField("code") != "provider_account_in_use" {
			t.Fatalf("%s: %s", why, r.raw)
		}
	}

	lost := b.charge(t, "lost", map[string]any{"billing_key_id": key, "amount": 2008, "order_name": "x"})
	requireStatus(t, lost, http.StatusAccepted) // unknown: paid at the PG, reply garbled
	refuse("an unknown payment")
	if _, err := b.payments.Reconcile(t.Context(), lost.str("id")); err != nil {
		t.Fatal(err)
	}
	refuse("a refundable payment")
	r := b.do(t, request{method: "POST", path: "/v1/payments/" + lost.str("id") + "/cancel", auth: b.m.secret,
		body: map[string]any{"reason": "closing the account"}, header: map[string]string{"Idempotency-Key": "r1"}})
	requireStatus(t, r, http.StatusCreated)
	requireStatus(t, del(), http.StatusOK)
	requireStatus(t, del(), http.StatusNotFound)
}
