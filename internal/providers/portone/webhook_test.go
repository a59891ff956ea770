package portone_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/billingd/billingd/internal/providers/portone"
)

var (
	hookSecret    = "whsec_" + base64.StdEncoding.EncodeToString([]byte("portone-webhook-secret-0123456789"))
	hookSecretOld = "whsec_" + base64.StdEncoding.EncodeToString([]byte("the-previous-webhook-secret-98765"))
)

// signed returns headers signed by the Standard Webhooks reference library,
// so the verifier is checked against an implementation that is not ours.
func signed(t *testing.T, secret, id string, at time.Time, body []byte) http.Header {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := wh.Sign(id, at, body)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	h.Set("webhook-signature", sig)
	return h
}

func TestVerifyWebhook(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	paid := []byte(`{"type":"Transaction.Paid","timestamp":"2026-12-02T10:00:00.000Z","data":{"paymentId":"pay_1","storeId":"store-1","transactionId":"tx-1"}}`)
	cases := []struct {
		name    string
		headers func() http.Header
		body    []byte
		secrets []string
		want    portone.Webhook
		wantErr error
	}{
		{name: "OK", body: paid, secrets: []string{hookSecret},
			headers: func() http.Header { return signed(t, hookSecret, "msg_1", now, paid) },
			want:    portone.Webhook{Version: portone.WebhookV20240425, Type: "Transaction.Paid", PaymentID: "pay_1", TransactionID: "tx-1", StoreID: "store-1"}},
		{name: "SecretWithoutPrefix", body: paid, secrets: []string{hookSecret[len("whsec_"):]},
			headers: func() http.Header { return signed(t, hookSecret, "msg_1", now, paid) },
			want:    portone.Webhook{Version: portone.WebhookV20240425, Type: "Transaction.Paid", PaymentID: "pay_1", TransactionID: "tx-1", StoreID: "store-1"}},
		{name: "RotationOldSecretStillSigns", body: paid, secrets: []string{hookSecret, hookSecretOld},
			headers: func() http.Header { return signed(t, hookSecretOld, "msg_1", now, paid) },
			want:    portone.Webhook{Version: portone.WebhookV20240425, Type: "Transaction.Paid", PaymentID: "pay_1", TransactionID: "tx-1", StoreID: "store-1"}},
		{name: "RotationSeveralSignatures", body: paid, secrets: []string{hookSecret},
			headers: func() http.Header {
				h := signed(t, hookSecretOld, "msg_1", now, paid)
				h.Set("webhook-signature", "v2,abc "+h.Get("webhook-signature")+" "+signed(t, hookSecret, "msg_1", now, paid).Get("webhook-signature"))
				return h
			},
			want: portone.Webhook{Version: portone.WebhookV20240425, Type: "Transaction.Paid", PaymentID: "pay_1", TransactionID: "tx-1", StoreID: "store-1"}},
		{name: "ErrRetiredSecret", body: paid, secrets: []string{hookSecret}, wantErr: portone.ErrWebhookSignature,
			headers: func() http.Header { return signed(t, hookSecretOld, "msg_1", now, paid) }},
		{name: "ErrBodyChanged", body: []byte(`{"type":"Transaction.Paid","data":{"paymentId":"pay_2"}}`), secrets: []string{hookSecret},
			wantErr: portone.ErrWebhookSignature, headers: func() http.Header { return signed(t, hookSecret, "msg_1", now, paid) }},
		{name: "ErrIDChanged", body: paid, secrets: []string{hookSecret}, wantErr: portone.ErrWebhookSignature,
			headers: func() http.Header {
				h := signed(t, hookSecret, "msg_1", now, paid)
				h.Set("webhook-id", "msg_2")
				return h
			}},
		{name: "ErrStale", body: paid, secrets: []string{hookSecret}, wantErr: portone.ErrWebhookTooOld,
			headers: func() http.Header { return signed(t, hookSecret, "msg_1", now.Add(-6*time.Minute), paid) }},
		{name: "ErrFromTheFuture", body: paid, secrets: []string{hookSecret}, wantErr: portone.ErrWebhookTooNew,
			headers: func() http.Header { return signed(t, hookSecret, "msg_1", now.Add(6*time.Minute), paid) }},
		{name: "WithinTolerance", body: paid, secrets: []string{hookSecret},
			headers: func() http.Header { return signed(t, hookSecret, "msg_1", now.Add(-4*time.Minute), paid) },
			want:    portone.Webhook{Version: portone.WebhookV20240425, Type: "Transaction.Paid", PaymentID: "pay_1", TransactionID: "tx-1", StoreID: "store-1"}},
		{name: "ErrMissingHeader", body: paid, secrets: []string{hookSecret}, wantErr: portone.ErrWebhookHeaders,
			headers: func() http.Header {
				h := signed(t, hookSecret, "msg_1", now, paid)
				h.Del("webhook-signature")
				return h
			}},
		{name: "ErrNoSecret", body: paid, secrets: []string{"not base64!"}, wantErr: portone.ErrWebhookSecret,
			headers: func() http.Header { return signed(t, hookSecret, "msg_1", now, paid) }},
		{name: "BillingKeyIssued", body: []byte(`{"type":"BillingKey.Issued","timestamp":"2026-12-02T10:00:00Z","data":{"storeId":"store-1","billingKey":"billing-key-1"}}`),
			secrets: []string{hookSecret},
			want:    portone.Webhook{Version: portone.WebhookV20240425, Type: "BillingKey.Issued", BillingKey: "billing-key-1", StoreID: "store-1"}},
		{name: "CancelledCarriesCancellation", body: []byte(`{"type":"Transaction.PartialCancelled","timestamp":"2026-12-02T10:00:00Z","data":{"paymentId":"pay_1","transactionId":"tx-1","cancellationId":"c-1"}}`),
			secrets: []string{hookSecret},
			want:    portone.Webhook{Version: portone.WebhookV20240425, Type: "Transaction.PartialCancelled", PaymentID: "pay_1", TransactionID: "tx-1", CancellationID: "c-1"}},
		{name: "UnknownTypeIgnorable", body: []byte(`{"type":"Settlement.Created","timestamp":"2026-12-02T10:00:00Z","data":{"x":1}}`),
			secrets: []string{hookSecret},
			want:    portone.Webhook{Version: portone.WebhookV20240425, Type: "Settlement.Created", Ignorable: true}},
		{name: "ErrKnownTypeWithoutPayment", body: []byte(`{"type":"Transaction.Paid","data":{}}`), secrets: []string{hookSecret},
			wantErr: portone.ErrWebhookBody},
		{name: "Legacy20240101JSON", body: []byte(`{"payment_id":"pay_1","tx_id":"tx-1","status":"Paid"}`), secrets: []string{hookSecret},
			want: portone.Webhook{Version: portone.WebhookV20240101, Type: "Transaction.Paid", PaymentID: "pay_1", TransactionID: "tx-1"}},
		{name: "Legacy20240101Form", body: []byte(`payment_id=pay_1&tx_id=tx-1&status=Cancelled`), secrets: []string{hookSecret},
			want: portone.Webhook{Version: portone.WebhookV20240101, Type: "Transaction.Cancelled", PaymentID: "pay_1", TransactionID: "tx-1"}},
		{name: "ErrNeitherShape", body: []byte(`{"hello":"world"}`), secrets: []string{hookSecret}, wantErr: portone.ErrWebhookBody},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var h http.Header
			if tc.headers != nil {
				h = tc.headers()
			} else {
				h = signed(t, hookSecret, "msg_x", now, tc.body)
			}
			got, err := portone.VerifyWebhook(h, tc.body, tc.secrets, now)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("VerifyWebhook: %v", err)
			}
			if got != tc.want {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
