package api

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/billingd/billingd/internal/billing"
	"github.com/billingd/billingd/internal/payments"
	"github.com/billingd/billingd/internal/providers/bootpay"
	"github.com/billingd/billingd/internal/providers/iamport"
)

// PG webhooks are hints. The handlers only parse and store them (the
// payments service queues a job that asks the PG's API), so the PG gets its
// acknowledgement at once and a slow or failing PG API never delays it.

func (s *Server) iamportWebhook(w http.ResponseWriter, r *http.Request) {
	fields, err := readWebhookFields(r)
	if err != nil {
		renderError(w, r, err)
		return
	}
	impUID := fields["imp_uid"]
	if !iamport.ValidPaymentID(impUID) {
		renderError(w, r, invalidPaymentID("imp_uid"))
		return
	}
	n := payments.Notification{
		ProviderID: impUID,
		DedupeKey:  strings.Join([]string{impUID, fields["status"], fields["cancellation_id"]}, "|"),
		Payload:    map[string]any{},
	}
	// Keep only the fields Iamport documents; nothing else is trusted or needed.
	for _, k := range []string{"imp_uid", "merchant_uid", "status", "cancellation_id"} {
		if v, ok := fields[k]; ok {
			n.Payload[k] = v
		}
	}
	if _, err := s.receiveNotification(r, "iamport", n); err != nil {
		renderError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "received"})
}

func (s *Server) bootpayWebhook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		renderError(w, r, decodeError(err))
		return
	}
	hook, err := bootpay.ParseWebhook(r.Header.Get("Content-Type"), body)
	if err != nil {
		renderError(w, r, &billing.Error{Code: billing.EInvalid, Reason: "webhook_invalid", Message: "the notification could not be read"})
		return
	}
	if !bootpay.ValidReceiptID(hook.ReceiptID) {
		renderError(w, r, invalidPaymentID("receipt_id"))
		return
	}
	n := payments.Notification{
		ProviderID: hook.ReceiptID,
		DedupeKey:  fmt.Sprintf("%s|%s|%d", hook.ReceiptID, hook.Type, hook.CancelledAmount),
		// v1 notifications echo the account's private key: store only
		// what identifies the payment.
		Payload: map[string]any{"receipt_id": hook.ReceiptID, "order_id": hook.OrderID, "status": hook.Status,
			"webhook_type": hook.Type, "price": hook.Amount, "cancelled_price": hook.CancelledAmount},
	}
	account, err := s.receiveNotification(r, "bootpay", n)
	if err != nil {
		renderError(w, r, err)
		return
	}
	if v, _ := account.Settings["api_version"].(string); v == bootpay.V1 {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("OK"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
}

// readWebhookFields reads a flat JSON object or a form body.
func readWebhookFields(r *http.Request) (map[string]string, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, decodeError(err)
	}
	invalid := &billing.Error{Code: billing.EInvalid, Reason: "webhook_invalid", Message: "the notification must be a JSON object or a form"}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	out := map[string]string{}
	switch mt {
	case "application/x-www-form-urlencoded":
		values, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, invalid
		}
		for k := range values {
			out[k] = values.Get(k)
		}
	default:
		var raw map[string]any
		if err := json.Unmarshal(body, &raw); err != nil {
			return nil, invalid
		}
		for k, v := range raw {
			switch v := v.(type) {
			case string:
				out[k] = v
			case float64, bool:
				out[k] = fmt.Sprint(v)
			}
		}
	}
	return out, nil
}

// clientIP is the caller's address as the client-IP middleware decided it
// (the remote address, or X-Forwarded-For from trusted proxies only).
func clientIP(r *http.Request) net.IP {
	if ip := middleware.GetClientIP(r.Context()); ip != "" {
		return net.ParseIP(ip)
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return nil
	}
	return net.ParseIP(host)
}
