package api

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/providers/portone"
)

func TestPortoneWebhooks(t *testing.T) {
	t.Parallel()

	t.Run("ASignedHintSettlesALostReply", func(t *testing.T) {
		t.Parallel()
		b := setupPortone(t)
		key := b.key(t)
		b.sandbox.Portone.SetWebhooksEnabled(false)
		r := b.charge(t, "lost", map[string]any{"billing_key_id": key, "amount": 15006, "order_name": "x"})
		requireStatus(t, r, http.StatusAccepted)
		requireStatus(t, b.hook(t, b.whsec, time.Now(), paidHook(r.str("id"))), http.StatusOK)
		list := b.waitForOutcomes(t, 1)
		if *list[0].Outcome != "applied" {
			t.Fatalf("outcome %s", *list[0].Outcome)
		}
		if got := b.paymentStatus(t, r.str("id")); got != "paid" {
			t.Fatalf("payment %s after the webhook", got)
		}
	})

	t.Run("TheSandboxsOwnSignedWebhooksAreAccepted", func(t *testing.T) {
		t.Parallel()
		b := setupPortone(t)
		key := b.key(t)
		r := b.charge(t, "p", map[string]any{"billing_key_id": key, "amount": 1000, "order_name": "x"})
		requireStatus(t, r, http.StatusCreated)
		// Transaction.Paid about a charge recorded paid is stored finished.
		list := b.waitForOutcomes(t, 1)
		if *list[0].Outcome != "no_change" {
			t.Fatalf("outcome %s", *list[0].Outcome)
		}
	})

	t.Run("UnsignedOrBadlySignedIs401AndStoresNothing", func(t *testing.T) {
		t.Parallel()
		b := setupPortone(t)
		key := b.key(t)
		b.sandbox.Portone.SetWebhooksEnabled(false)
		r := b.charge(t, "lost", map[string]any{"billing_key_id": key, "amount": 15006, "order_name": "x"})
		body := paidHook(r.str("id"))
		other := "whsec_" + "b3RoZXItc2VjcmV0LW9mLXNvbWVvbmUtZWxzZQ=="
		for name, resp := range map[string]response{
			"unsigned":     b.hook(t, "", time.Now(), body),
			"other secret": b.hook(t, other, time.Now(), body),
			"too old":      b.hook(t, b.whsec, time.Now().Add(-10*time.Minute), body),
		} {
			if resp.status != http.StatusUnauthorized {
				t.Errorf("%s: %d %s", name, resp.status, resp.raw)
			}
		}
		if n := len(b.notifications(t)); n != 0 {
			t.Fatalf("%d notifications stored from refused webhooks", n)
		}
		if got := b.paymentStatus(t, r.str("id")); got != "unknown" {
			t.Fatalf("payment %s", got)
		}
	})

	t.Run("DuringARotationBothSecretsVerify", func(t *testing.T) {
		t.Parallel()
		b := setupPortone(t)
		old := b.whsec
		fresh := "whsec_" + "bmV3LXNlY3JldC1hZnRlci10aGUtcm90YXRpb24hIQ=="
		up := b.do(t, request{method: "PATCH", path: "/admin/v1/provider_accounts/" + b.accountID, auth: testAdminToken,
			body: map[string]any{"credentials": map[string]any{"api_secret": b.secret, "webhook_secret": fresh, "webhook_secret_previous": old}}})
		requireStatus(t, up, http.StatusOK)
		unknown := `{"type":"Transaction.SomethingNew","timestamp":"2024-04-25T10:00:00.000Z","data":{"paymentId":"x"}}`
		requireStatus(t, b.hook(t, old, time.Now(), unknown), http.StatusOK)
		requireStatus(t, b.hook(t, fresh, time.Now(), unknown), http.StatusOK)
		// The rotation ends: the old secret no longer verifies.
		up = b.do(t, request{method: "PATCH", path: "/admin/v1/provider_accounts/" + b.accountID, auth: testAdminToken,
			body: map[string]any{"credentials": map[string]any{"api_secret": b.secret, "webhook_secret": fresh}}})
		requireStatus(t, up, http.StatusOK)
		requireStatus(t, b.hook(t, old, time.Now(), unknown), http.StatusUnauthorized)
	})

	t.Run("UnknownTypesAre200AndBadIDs400", func(t *testing.T) {
		t.Parallel()
		b := setupPortone(t)
		unknown := `{"type":"Transaction.SomethingNew","timestamp":"2024-04-25T10:00:00.000Z","data":{"paymentId":"x"}}`
		requireStatus(t, b.hook(t, b.whsec, time.Now(), unknown), http.StatusOK)
		issued := `{"type":"BillingKey.Issued","timestamp":"2024-04-25T10:00:00.000Z","data":{"billingKey":"billing-key-1","storeId":"s"}}`
		requireStatus(t, b.hook(t, b.whsec, time.Now(), issued), http.StatusOK)
		requireStatus(t, b.hook(t, b.whsec, time.Now(), paidHook("order-123")), http.StatusBadRequest)
		if n := len(b.notifications(t)); n != 0 {
			t.Fatalf("%d notifications stored", n)
		}
	})

	t.Run("TheOlderBodyIsAccepted", func(t *testing.T) {
		t.Parallel()
		b := setupPortone(t)
		key := b.key(t)
		b.sandbox.Portone.SetWebhooksEnabled(false)
		r := b.charge(t, "lost", map[string]any{"billing_key_id": key, "amount": 15006, "order_name": "x"})
		legacy := fmt.Sprintf(`{"payment_id":%q,"tx_id":"t1","status":"Paid"}`, portone.WirePaymentID(r.str("id")))
		requireStatus(t, b.hook(t, b.whsec, time.Now(), legacy), http.StatusOK)
		if list := b.waitForOutcomes(t, 1); *list[0].Outcome != "applied" {
			t.Fatalf("outcome %s", *list[0].Outcome)
		}
	})

	t.Run("BillingKeyDeletedIsCheckedWithThePG", func(t *testing.T) {
		t.Parallel()
		b := setupPortone(t)
		keyID := b.key(t)
		pk := mustKey(t, b.payBundle, keyID).ProviderKey
		deleted := fmt.Sprintf(`{"type":"BillingKey.Deleted","timestamp":"2024-04-25T10:00:00.000Z","data":{"billingKey":%q,"storeId":"s"}}`, pk)
		// A forged (but signed, e.g. replayed) deletion of a key PortOne
		// still has issued changes nothing.
		requireStatus(t, b.hook(t, b.whsec, time.Now(), deleted), http.StatusOK)
		if list := b.waitForOutcomes(t, 1); *list[0].Outcome != "flagged_key_still_issued" {
			t.Fatalf("outcome %s", *list[0].Outcome)
		}
		if k := mustKey(t, b.payBundle, keyID); k.Status != "active" {
			t.Fatalf("key %s after a hint PortOne contradicts", k.Status)
		}
		// Deleted at PortOne (in its console): the hint is believed once checked.
		client, _ := b.gateways.Portone(mustAccount(t, b.payBundle))
		b.sandbox.Portone.SetWebhooksEnabled(false)
		if err := client.DeleteBillingKey(t.Context(), pk); err != nil {
			t.Fatal(err)
		}
		requireStatus(t, b.hook(t, b.whsec, time.Now(), deleted), http.StatusOK)
		deadline := time.Now().Add(15 * time.Second)
		for mustKey(t, b.payBundle, keyID).Status != "deleted" {
			if time.Now().After(deadline) {
				t.Fatalf("the key was not marked deleted: %+v", b.notifications(t))
			}
			time.Sleep(20 * time.Millisecond)
		}
		if got := b.eventTypes(t, keyID); got[len(got)-1] != "billing_key.deleted" {
			t.Fatalf("events %v", got)
		}
	})
}
