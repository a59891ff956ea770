package billing

import (
	"encoding/json"
	"strings"
	"testing"
)

// The audit summary of a payment keeps its state and references and
// nothing a person could be found by.
func TestPaymentAuditSummary(t *testing.T) {
	card, name, code := "536181******1234", "BC카드", "card_declined"
	p := Payment{ID: "pay_1", Status: PaymentFailed, Amount: 9900, Currency: "KRW", CustomerID: "cus_1",
		CardNumber: &card, CardName: &name, FailureCode: &code, OrderName: "홍길동 월간 구독",
		Metadata: map[string]any{"phone": "010-1234-5678"}}
	got := p.AuditSummary()
	for _, k := range []string{"status", "amount", "currency", "customer_id", "failure_code"} {
		if _, ok := got[k]; !ok {
			t.Errorf("summary lacks %s: %v", k, got)
		}
	}
	b, _ := json.Marshal(got)
	for _, secret := range []string{card, name, "홍길동", "010-1234-5678"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("summary %s holds %q", b, secret)
		}
	}
	if _, ok := got["pg"]; ok {
		t.Errorf("a nil pg is left out, got %v", got["pg"])
	}
}
