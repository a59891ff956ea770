package bootpay

import (
	"encoding/json"
	"errors"
	"mime"
	"net/url"
	"strconv"
)

// Webhook is what a Bootpay feedback notification says. It is a hint only:
// nothing in it is signed (reference §9), so billingd re-reads the receipt
// (GetPayment) before changing any state. Its one reliable use is to learn
// the receipt_id of an order whose charge reply was lost.
type Webhook struct {
	ReceiptID       string
	OrderID         string
	Status          int    // receipt status (1 paid, 20 cancelled, …)
	Type            string // v2 webhook_type (PAYMENT_COMPLETED …); empty in v1 / older payloads
	Amount          int64
	CancelledAmount int64
}

// ParseWebhook decodes a feedback notification: v2 JSON, v1 JSON, or v1
// form-urlencoded. Fields it does not need — including the private_key
// that v1 form notifications echo — are ignored and never kept.
func ParseWebhook(contentType string, body []byte) (Webhook, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "application/x-www-form-urlencoded" {
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return Webhook{}, errors.New("bootpay webhook: unreadable form")
		}
		w := Webhook{ReceiptID: v.Get("receipt_id"), OrderID: v.Get("order_id"), Type: v.Get("webhook_type")}
		w.Status, _ = strconv.Atoi(v.Get("status"))
		w.Amount, _ = strconv.ParseInt(v.Get("price"), 10, 64)
		w.CancelledAmount, _ = strconv.ParseInt(v.Get("cancelled_price"), 10, 64)
		return w.check()
	}
	var j struct {
		ReceiptID      string     `json:"receipt_id"`
		OrderID        string     `json:"order_id"`
		Status         flexInt    `json:"status"`
		WebhookType    flexString `json:"webhook_type"`
		Price          amount     `json:"price"`
		CancelledPrice amount     `json:"cancelled_price"`
	}
	if err := json.Unmarshal(body, &j); err != nil {
		return Webhook{}, errors.New("bootpay webhook: unreadable JSON")
	}
	return Webhook{ReceiptID: j.ReceiptID, OrderID: j.OrderID, Status: int(j.Status), Type: string(j.WebhookType),
		Amount: int64(j.Price), CancelledAmount: int64(j.CancelledPrice)}.check()
}

func (w Webhook) check() (Webhook, error) {
	if w.ReceiptID == "" {
		return Webhook{}, errors.New("bootpay webhook: no receipt_id")
	}
	return w, nil
}
