package demo_test

import (
	"testing"
)

// PortOne V2 from the demo: the backend creates the pending key with
// provider portone, the page calls PortOne.requestIssueBillingKey with
// client_params and confirms with the billingKey it resolves with. A
// failure resolves (never rejects) with a code, and billingd keeps the key
// pending.
func TestPortoneWindowFromDemo(t *testing.T) {
	t.Parallel()
	for _, tc := range windowCases("4111111111110000") {
		if tc.name == "FailButton" {
			continue // the same path as RefusedCard in the demo: a result with a code
		}
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			ctx := openDemo(t, b)
			click(t, ctx, "#portone-card")
			waitWindow(t, ctx, "portone-sandbox-frame")
			if tc.name == "Complete" {
				screenshot(t, ctx, "portone-window")
			}
			inWindow(t, ctx, "portone-sandbox-frame", tc.act)
			waitOutcome(t, ctx, tc.outcome)
			waitFor(t, ctx, "the layer to close", `!document.getElementById("portone-sandbox-layer")`)
			id := text(t, ctx, "bk-id")
			key := b.get(t, "/v1/billing_keys/"+id)
			if key["status"] != tc.status || key["provider"] != "portone" {
				t.Fatalf("billing key %s: status %v provider %v, want %s portone", id, key["status"], key["provider"], tc.status)
			}
			if tc.name == "RefusedCard" {
				if got := text(t, ctx, "status"); got != "Window failed: PG사에서 요청을 거절했습니다." {
					t.Fatalf("status %q, want the PG refusal", got)
				}
			}
		})
	}
}
