package iamport_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/billingd/billingd/internal/providers"
)

// TestRefusedChargeWithFailedLookupIsUnknown: Iamport refuses a charge
// (non-zero code) and the lookup that would tell "already paid" from a
// plain refusal fails too. Nobody knows whether money moved, so the
// answer is unknown (reconciled later), never a failure.
func TestRefusedChargeWithFailedLookupIsUnknown(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.mustWindowKey(t, "cus_lookup")
	ctx := context.Background()
	req := providers.ChargeRequest{OrderID: "pay_lookup", BillingKey: "cus_lookup", Amount: 5000}
	if _, err := b.client.Charge(ctx, req); err != nil {
		t.Fatal(err)
	}
	b.sb.SetFindFailure(http.StatusInternalServerError)
	_, err := b.client.Charge(ctx, req) // refused: the order is paid already
	pe := requireKind(t, err, providers.ErrUnknown)
	if pe.PGCode == "" || pe.PGCode == "0" {
		t.Errorf("the refusal's code is lost: %+v", pe)
	}
	// A refusal for another reason is just as undecidable while the lookup fails.
	_, err = b.client.Charge(ctx, providers.ChargeRequest{OrderID: "pay_nobody", BillingKey: "cus_nobody", Amount: 5000})
	requireKind(t, err, providers.ErrUnknown)

	// Once the lookup answers, a refusal with no paid payment behind it is a refusal.
	b.sb.SetFindFailure(0)
	_, err = b.client.Charge(ctx, providers.ChargeRequest{OrderID: "pay_nobody", BillingKey: "cus_nobody", Amount: 5000})
	requireKind(t, err, providers.ErrRejected)
}
