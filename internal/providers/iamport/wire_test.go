package iamport

import (
	"encoding/json"
	"testing"
	"time"
)

func TestWholeNumbers(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in      json.Number
		want    int64
		wantErr bool
	}{
		{"", 0, false}, // null
		{"9000", 9000, false},
		{"-500", -500, false},
		{"9000.0", 9000, false},
		{"9e3", 9000, false},
		{"1700000000", 1700000000, false},
		{"9000.5", 0, true},
		{"0.1", 0, true},
		{"1e400", 0, true},
		{"1e20", 0, true},
		{"abc", 0, true},
	}
	for _, tc := range cases {
		got, err := whole(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("whole(%q) = %d, %v; want %d, err %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestPaymentDecoding(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		body    string
		wantErr bool
	}{
		{"Integers", `{"imp_uid":"imp_1","merchant_uid":"m1","amount":8900,"cancel_amount":0,"status":"paid","paid_at":1700000000,"failed_at":0,"fail_reason":null,"currency":"KRW"}`, false},
		{"FloatWithoutFraction", `{"imp_uid":"imp_1","merchant_uid":"m1","amount":8900.0,"cancel_amount":0,"status":"paid","paid_at":1700000000}`, false},
		{"FractionalAmount", `{"imp_uid":"imp_1","merchant_uid":"m1","amount":8900.5,"status":"paid"}`, true},
		{"FractionalCancel", `{"imp_uid":"imp_1","merchant_uid":"m1","amount":8900,"cancel_amount":0.5,"status":"paid"}`, true},
		{"NoImpUID", `{"merchant_uid":"m1","amount":8900,"status":"paid"}`, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var w wirePayment
			if err := json.Unmarshal([]byte(tc.body), &w); err != nil {
				t.Fatal(err)
			}
			p, err := w.payment()
			if (err != nil) != tc.wantErr {
				t.Fatalf("payment() error = %v, wantErr %v", err, tc.wantErr)
			}
			if err == nil && (p.Amount != 8900 || !p.PaidAt.Equal(time.Unix(1700000000, 0)) || !p.FailedAt.IsZero() || p.Currency != "KRW") {
				t.Fatalf("payment = %+v", p)
			}
		})
	}
}
