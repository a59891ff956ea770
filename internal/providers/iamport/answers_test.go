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

// TestTestChannelOnlyForTestAccounts: a test-mode client asks for test-
// channel payments (include_sandbox) and a live one never does; either
// way the adapter reports the channel the PG gives, so the caller can
// refuse a test-channel payment on a live account.
func TestTestChannelOnlyForTestAccounts(t *testing.T) {
	t.Parallel()
	for _, live := range []bool{false, true} {
		b := setupWith(t, bundleOptions{live: live})
		b.mustWindowKey(t, "cus_channel")
		paid, err := b.client.Charge(context.Background(), providers.ChargeRequest{OrderID: "pay_channel", BillingKey: "cus_channel", Amount: 5000})
		if err != nil {
			t.Fatal(err)
		}
		// The sandbox is a test channel, and billingd charges over the API.
		if !paid.TestChannel || paid.Channel != providers.ChannelAPI {
			t.Fatalf("live=%v: charge reply channel %q test %v", live, paid.Channel, paid.TestChannel)
		}
		got, err := b.client.GetPayment(context.Background(), paid.ProviderID)
		if live {
			// Without include_sandbox Iamport hides it, as from a live account.
			requireKind(t, err, providers.ErrNotFound)
			continue
		}
		if err != nil || !got.TestChannel || got.Channel != providers.ChannelAPI {
			t.Fatalf("test-mode lookup = %+v, %v", got, err)
		}
	}
}
