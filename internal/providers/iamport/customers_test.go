package iamport_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/billingd/billingd/internal/providers"
)

func TestIssueBillingKey(t *testing.T) {
	t.Parallel()
	goodCard := providers.CardData{Number: "5361810012345678", Expiry: "2031-07", Birth: "900101", Password2: "12"}
	cases := []struct {
		name     string
		pg       string
		card     providers.CardData
		wantKind error // nil = issued
		wantPGID string
		noCall   bool // refused before any HTTP call
	}{
		{name: "Nice", pg: "nice", card: goodCard, wantPGID: "nice_sandbox_mid"},
		{name: "KCPWithMID", pg: "kcp.MID001", card: goodCard, wantPGID: "MID001"},
		{name: "DefaultPG", pg: "", card: goodCard, wantPGID: "nice_sandbox_mid"},
		{name: "PaycoWindowOnly", pg: "payco", card: goodCard, wantKind: providers.ErrRejected, noCall: true},
		{name: "ChaiWindowOnly", pg: "chai.pk_live", card: goodCard, wantKind: providers.ErrRejected, noCall: true},
		{name: "KakaoPayWindowOnly", pg: "kakaopay", card: goodCard, wantKind: providers.ErrRejected, noCall: true},
		{name: "KICCWindowOnly", pg: "kicc", card: goodCard, wantKind: providers.ErrRejected, noCall: true},
		{name: "CardRefused", pg: "nice", card: providers.CardData{Number: "5361810012340000", Expiry: "2031-07"}, wantKind: providers.ErrDeclined},
		{name: "CardExpired", pg: "nice", card: providers.CardData{Number: "5361810012345678", Expiry: "2020-01"}, wantKind: providers.ErrDeclined},
		{name: "MalformedNumber", pg: "nice", card: providers.CardData{Number: "5361-8100", Expiry: "2031-07"}, wantKind: providers.ErrRejected, noCall: true},
		{name: "MalformedExpiry", pg: "nice", card: providers.CardData{Number: "5361810012345678", Expiry: "07/31"}, wantKind: providers.ErrRejected, noCall: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			ctx := context.Background()
			k, err := b.client.IssueBillingKey(ctx, providers.IssueBillingKeyRequest{Key: "cus_rest", PG: tc.pg, Card: tc.card,
				Buyer: providers.Buyer{Name: "김철수", Phone: "010-1234-5678"}})
			if tc.noCall && (b.client.TokenCalls() != 0 || b.sb.TotalCalls() != 0) {
				t.Fatalf("HTTP calls were made: token %d, sandbox %d", b.client.TokenCalls(), b.sb.TotalCalls())
			}
			if tc.wantKind != nil {
				pe := requireKind(t, err, tc.wantKind)
				if strings.Contains(err.Error(), tc.card.Number) {
					t.Fatalf("error leaks the card number: %v", pe)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if k.Key != "cus_rest" || k.PGID != tc.wantPGID || k.CardNumber != "536181******5678" || k.CardType != "credit" ||
				k.CardName == "" || k.IssuedAt.IsZero() {
				t.Fatalf("key = %+v", k)
			}
			v, err := b.client.VerifyBillingKey(ctx, providers.VerifyBillingKeyRequest{Key: "cus_rest"})
			if err != nil || v != k {
				t.Fatalf("Verify = %+v, %v; issued %+v", v, err, k)
			}
		})
	}
}

// TestWindowKeys registers keys the way a PAYCO or CHAI window would and
// confirms them server-side, as billingd's confirm step does.
func TestWindowKeys(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		pg, method string
		extra      map[string]string
		wantStatus int
		wantCard   string // masked card_number reported by Verify
	}{
		{name: "PaycoCard", pg: "payco", method: "card", wantStatus: http.StatusOK, wantCard: "424242******4242"},
		{name: "PaycoOwnCard", pg: "payco", method: "card", extra: map[string]string{"card_number": "9410-1234-5678-9012"},
			wantStatus: http.StatusOK, wantCard: "941012******9012"},
		{name: "ChaiTransWithRedirect", pg: "chai", method: "trans", extra: map[string]string{"m_redirect_url": "https://shop.example/done"},
			wantStatus: http.StatusOK},
		{name: "ChaiWithoutRedirect", pg: "chai", method: "trans", wantStatus: http.StatusBadRequest},
		{name: "ChaiWrongMethod", pg: "chai", method: "card", extra: map[string]string{"m_redirect_url": "https://shop.example/done"},
			wantStatus: http.StatusBadRequest},
		{name: "PaycoWrongMethod", pg: "payco", method: "trans", wantStatus: http.StatusBadRequest},
		{name: "RESTPGInWindow", pg: "nice", method: "card", wantStatus: http.StatusOK, wantCard: "424242******4242"},
		{name: "CardRefused", pg: "payco", method: "card", extra: map[string]string{"card_number": "4242424242420000"},
			wantStatus: http.StatusPaymentRequired},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			ctx := context.Background()
			status, out := b.windowKey(t, "cus_window", tc.pg, tc.method, tc.extra)
			if status != tc.wantStatus {
				t.Fatalf("window status = %d (%v), want %d", status, out, tc.wantStatus)
			}
			k, err := b.client.VerifyBillingKey(ctx, providers.VerifyBillingKeyRequest{Key: "cus_window"})
			if tc.wantStatus != http.StatusOK {
				requireKind(t, err, providers.ErrNotFound) // the window failed: no key
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if k.Key != "cus_window" || k.PG != tc.pg || k.CardNumber != tc.wantCard || out["customer_uid"] != "cus_window" {
				t.Fatalf("key = %+v, window reply %v", k, out)
			}
			if redirect, _ := out["redirect_url"].(string); tc.extra["m_redirect_url"] != "" && !strings.HasPrefix(redirect, "https://shop.example/done?") {
				t.Fatalf("redirect_url = %q", redirect)
			}
			// again works with window-issued keys of every PG.
			p, err := b.client.Charge(ctx, providers.ChargeRequest{OrderID: "pay_window", BillingKey: "cus_window", Amount: 8900})
			if err != nil || p.PG != tc.pg || p.PayMethod != tc.method {
				t.Fatalf("charge = %+v, %v", p, err)
			}
		})
	}
}

// TestDeleteBillingKey runs under both answers Iamport is known to give for
// an unknown customer_uid (reference §11.1).
func TestDeleteBillingKey(t *testing.T) {
	t.Parallel()
	for _, mode := range []int{http.StatusNotFound, http.StatusOK} {
		t.Run(http.StatusText(mode), func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.sb.SetCustomerNotFoundMode(mode)
			b.mustWindowKey(t, "cus_del")
			ctx := context.Background()
			if err := b.client.DeleteBillingKey(ctx, "cus_del"); err != nil {
				t.Fatal(err)
			}
			_, err := b.client.VerifyBillingKey(ctx, providers.VerifyBillingKeyRequest{Key: "cus_del"})
			pe := requireKind(t, err, providers.ErrNotFound)
			if pe.PGCode != "1" || !strings.Contains(pe.PGMessage, "cus_del") {
				t.Errorf("not-found error = %+v", pe)
			}
			requireKind(t, b.client.DeleteBillingKey(ctx, "cus_del"), providers.ErrNotFound)
			_, err = b.client.Charge(ctx, providers.ChargeRequest{OrderID: "pay_del", BillingKey: "cus_del", Amount: 1000})
			requireKind(t, err, providers.ErrRejected)
		})
	}
}
