package main

import (
	"strings"
	"testing"
	"time"

	portonesandbox "github.com/billingd/billingd/internal/providers/portone/sandbox"
)

// The floor arm charges the sandbox PortOne V2 as billingd's adapter does:
// its keys are issued there, each arrival is a fresh paymentId, and the
// sandbox's own answer decides success.
func TestPortoneFloorCharges(t *testing.T) {
	t.Parallel()
	sb, err := startPortoneSandbox("127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sb.close()
	st := &portoneStore{apiSecret: "portone-secret-test", storeID: "store-test", channelKey: "channel-key-bench"}
	sb.portone.AddAccount(portonesandbox.Account{APISecret: st.apiSecret, StoreID: st.storeID})
	for i := range 2 {
		k, err := st.issue(t.Context(), sb.url, i)
		if err != nil {
			t.Fatal(err)
		}
		st.pgKeys = append(st.pgKeys, k)
	}
	fire := st.floorRequester(t.Context(), newClient(5*time.Second), sb.url, "t")
	for i := range 3 {
		if out := fire(i); !out.ok {
			t.Fatalf("charge %d: %s", i, out.err)
		}
	}
	if n := sb.portone.Calls("POST /payments/{paymentId}/billing-key"); n != 3 {
		t.Fatalf("%d charges reached the sandbox, want 3", n)
	}
	// A paymentId already paid is refused: each arrival must be a new one.
	again := st.floorRequester(t.Context(), newClient(5*time.Second), sb.url, "t")
	if out := again(0); out.ok || !strings.Contains(out.err, "ALREADY_PAID") {
		t.Fatalf("a repeated paymentId: ok=%v %s", out.ok, out.err)
	}
	st.apiSecret = "wrong"
	bad := st.floorRequester(t.Context(), newClient(5*time.Second), sb.url, "u")
	if out := bad(0); out.ok || !strings.Contains(out.err, "401") {
		t.Fatalf("a wrong API secret: ok=%v %s", out.ok, out.err)
	}
}
