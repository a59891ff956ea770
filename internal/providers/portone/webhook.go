package portone

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Why a webhook was refused. Each is in the chain of VerifyWebhook's error
// (errors.Is); none of them says anything about the secret.
var (
	ErrWebhookHeaders   = errors.New("portone webhook: webhook-id, webhook-timestamp or webhook-signature missing or malformed")
	ErrWebhookSignature = errors.New("portone webhook: no signature matches")
	ErrWebhookTooOld    = errors.New("portone webhook: timestamp too old")
	ErrWebhookTooNew    = errors.New("portone webhook: timestamp too new")
	ErrWebhookSecret    = errors.New("portone webhook: no usable webhook secret configured")
	ErrWebhookBody      = errors.New("portone webhook: unreadable body")
)

// WebhookTolerance is how far a webhook's timestamp may be from now, either
// way, as PortOne's own verifiers allow.
const WebhookTolerance = 5 * time.Minute

// Webhook body versions.
const (
	WebhookV20240425 = "2024-04-25"
	WebhookV20240101 = "2024-01-01"
)

// Webhook is what a verified notification says: a hint naming a payment or
// a billing key. Only PortOne's API answer may change state.
type Webhook struct {
	Version string // WebhookV20240425 or WebhookV20240101
	// Type is e.g. "Transaction.Paid" or "BillingKey.Issued" (the older body's
	// status is reported as "Transaction.<status>").
	Type           string
	PaymentID      string // Transaction.*: billingd's payment id (OrderID of the paymentId)
	TransactionID  string
	CancellationID string // Transaction.*Cancel* events
	BillingKey     string // BillingKey.*
	StoreID        string
	// Ignorable: a type this adapter does not know (PortOne adds types);
	// acknowledge it and do nothing.
	Ignorable bool
}

// webhookTypes are the types documented for 2024-04-25 (plus the SDK's
// Transaction.Confirm).
var webhookTypes = map[string]bool{
	"Transaction.Ready": true, "Transaction.Paid": true, "Transaction.VirtualAccountIssued": true,
	"Transaction.PartialCancelled": true, "Transaction.Cancelled": true, "Transaction.Failed": true,
	"Transaction.PayPending": true, "Transaction.CancelPending": true, "Transaction.DisputeCreated": true,
	"Transaction.DisputeResolved": true, "Transaction.Confirm": true,
	"BillingKey.Ready": true, "BillingKey.Issued": true, "BillingKey.Failed": true, "BillingKey.Deleted": true,
	"BillingKey.Updated": true,
}

// VerifyWebhook checks a PortOne V2 webhook's Standard Webhooks signature
// and parses its body. The signature is HMAC-SHA256 over
// "{webhook-id}.{webhook-timestamp}.{body}" keyed with the base64-decoded
// secret (a "whsec_" prefix is dropped); webhook-signature lists
// space-separated "v1,<base64>" entries, other versions are skipped; the
// comparison is constant-time; the timestamp must be within
// WebhookTolerance of now. secrets holds every secret currently active (two
// during a rotation); any of them may have signed.
//
// Both body versions are accepted, since PortOne signs both the same way:
// 2024-04-25 {"type","timestamp","data"} and the older 2024-01-01
// {"payment_id","tx_id","status"} (JSON or form-urlencoded). A signed body
// of neither shape is ErrWebhookBody.
func VerifyWebhook(h http.Header, body []byte, secrets []string, now time.Time) (Webhook, error) {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return Webhook{}, ErrWebhookHeaders
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return Webhook{}, ErrWebhookHeaders
	}
	keys := make([][]byte, 0, len(secrets))
	for _, s := range secrets {
		if k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(strings.TrimSpace(s), "whsec_")); err == nil && len(k) > 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return Webhook{}, ErrWebhookSecret
	}
	if !signatureMatches(keys, id, ts, body, sigs) {
		return Webhook{}, ErrWebhookSignature
	}
	// The timestamp is judged only once it is known to be PortOne's.
	at := time.Unix(sec, 0)
	switch {
	case now.Sub(at) > WebhookTolerance:
		return Webhook{}, ErrWebhookTooOld
	case at.Sub(now) > WebhookTolerance:
		return Webhook{}, ErrWebhookTooNew
	}
	return ParseWebhook(body)
}

func signatureMatches(keys [][]byte, id, ts string, body []byte, header string) bool {
	var want [][]byte
	for _, entry := range strings.Fields(header) {
		version, sig, ok := strings.Cut(entry, ",")
		if !ok || version != "v1" {
			continue
		}
		if b, err := base64.StdEncoding.DecodeString(sig); err == nil {
			want = append(want, b)
		}
	}
	match := false
	for _, k := range keys {
		mac := hmac.New(sha256.New, k)
		mac.Write([]byte(id))
		mac.Write([]byte{'.'})
		mac.Write([]byte(ts))
		mac.Write([]byte{'.'})
		mac.Write(body)
		sum := mac.Sum(nil)
		for _, w := range want {
			// Every pair is compared, so timing says nothing about which one matched.
			if hmac.Equal(sum, w) {
				match = true
			}
		}
	}
	return match
}

// ParseWebhook reads a webhook body without verifying it; VerifyWebhook is
// the entry point for anything received over the network.
func ParseWebhook(body []byte) (Webhook, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var j struct {
			Type string `json:"type"`
			Data *struct {
				StoreID        string `json:"storeId"`
				PaymentID      string `json:"paymentId"`
				TransactionID  string `json:"transactionId"`
				CancellationID string `json:"cancellationId"`
				BillingKey     string `json:"billingKey"`
			} `json:"data"`
			PaymentID string `json:"payment_id"`
			TxID      string `json:"tx_id"`
			Status    string `json:"status"`
		}
		if err := json.Unmarshal(trimmed, &j); err != nil {
			return Webhook{}, ErrWebhookBody
		}
		if j.Type != "" {
			w := Webhook{Version: WebhookV20240425, Type: j.Type, Ignorable: !webhookTypes[j.Type]}
			if j.Data != nil {
				w.StoreID, w.PaymentID, w.TransactionID = j.Data.StoreID, OrderID(j.Data.PaymentID), j.Data.TransactionID
				w.CancellationID, w.BillingKey = j.Data.CancellationID, j.Data.BillingKey
			}
			return w.check()
		}
		return legacy(j.PaymentID, j.TxID, j.Status)
	}
	v, err := url.ParseQuery(string(trimmed))
	if err != nil {
		return Webhook{}, ErrWebhookBody
	}
	return legacy(v.Get("payment_id"), v.Get("tx_id"), v.Get("status"))
}

// legacy reads the 2024-01-01 body: a payment and its new status.
func legacy(paymentID, txID, status string) (Webhook, error) {
	if paymentID == "" || status == "" {
		return Webhook{}, ErrWebhookBody
	}
	t := "Transaction." + status
	return Webhook{Version: WebhookV20240101, Type: t, PaymentID: OrderID(paymentID), TransactionID: txID,
		Ignorable: !webhookTypes[t]}, nil
}

// check refuses a known type without the id it must name.
func (w Webhook) check() (Webhook, error) {
	if w.Ignorable {
		return w, nil
	}
	switch {
	case strings.HasPrefix(w.Type, "Transaction.") && w.PaymentID == "":
		return Webhook{}, ErrWebhookBody
	case strings.HasPrefix(w.Type, "BillingKey.") && w.BillingKey == "":
		return Webhook{}, ErrWebhookBody
	}
	return w, nil
}
