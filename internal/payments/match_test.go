package payments

import (
	"slices"
	"testing"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/providers"
)

// TestPGMismatch covers the one check every applied PG answer passes,
// field by field, including what only the adapters' new fields reveal: a
// currency, a browser's channel, a test-channel payment on a live account.
func TestPGMismatch(t *testing.T) {
	sent := billing.Payment{ID: "pay_1", Amount: 9000, Currency: "KRW", Mode: billing.ModeLive}
	ok := providers.Payment{OrderID: "pay_1", Amount: 9000, Currency: "KRW", BillingKey: "cuid_1", Channel: providers.ChannelAPI}
	cases := []struct {
		name   string
		change func(*providers.Payment)
		mode   billing.Mode
		want   []string
	}{
		{"Matches", func(*providers.Payment) {}, billing.ModeLive, nil},
		{"KeyNotReported", func(p *providers.Payment) { p.BillingKey, p.Channel = "", "" }, billing.ModeLive, nil},
		{"AnotherOrder", func(p *providers.Payment) { p.OrderID = "pay_2" }, billing.ModeLive, []string{"order_id"}},
		{"AnotherAmount", func(p *providers.Payment) { p.Amount = 9001 }, billing.ModeLive, []string{"amount"}},
		{"AnotherCurrency", func(p *providers.Payment) { p.Currency = "USD" }, billing.ModeLive, []string{"currency"}},
		{"AnotherKey", func(p *providers.Payment) { p.BillingKey = "cuid_2" }, billing.ModeLive, []string{"billing_key"}},
		{"BrowserChannel", func(p *providers.Payment) { p.Channel = "pc" }, billing.ModeLive, []string{"channel"}},
		{"TestChannelOnLive", func(p *providers.Payment) { p.TestChannel = true }, billing.ModeLive, []string{"test_channel"}},
		{"TestChannelOnTest", func(p *providers.Payment) { p.TestChannel = true }, billing.ModeTest, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, pg := sent, ok
			p.Mode = tc.mode
			tc.change(&pg)
			if got := pgMismatch(p, "cuid_1", pg); !slices.Equal(got, tc.want) {
				t.Fatalf("pgMismatch = %v, want %v", got, tc.want)
			}
		})
	}
}
