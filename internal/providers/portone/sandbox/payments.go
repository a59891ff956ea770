package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Outcomes keyed on the last digit of amount.total (see doc.go).
const (
	digitDecline    = 4
	digitSlow       = 5
	digitServerErr  = 6
	digitBadGateway = 7
	digitGarbled    = 8
	digitDropped    = 9
)

// chargeInput is BillingKeyPaymentInput, the body of a charge and the
// payment of a schedule.
type chargeInput struct {
	StoreID    string      `json:"storeId"`
	BillingKey string      `json:"billingKey"`
	ChannelKey string      `json:"channelKey"`
	OrderName  string      `json:"orderName"`
	Amount     amountInput `json:"amount"`
	Currency   string      `json:"currency"`
	CustomData string      `json:"customData"`
	Customer   struct {
		ID   string `json:"id"`
		Name *struct {
			Full string `json:"full"`
		} `json:"name"`
		Email       string `json:"email"`
		PhoneNumber string `json:"phoneNumber"`
	} `json:"customer"`
	NoticeURLs  []string `json:"noticeUrls"`
	SkipWebhook bool     `json:"skipWebhook"`
}

// validate checks the input alone; it returns the amounts or an error type
// and message.
func (in chargeInput) validate() (total, taxFree, vat int64, status int, typ, msg string) {
	if in.BillingKey == "" || in.OrderName == "" || in.Currency == "" {
		return 0, 0, 0, http.StatusBadRequest, "INVALID_REQUEST", "billingKey, orderName, amount, currency는 필수입니다."
	}
	if in.Currency != "KRW" {
		// ISO 4217 codes, unlike the browser SDK's CURRENCY_KRW; the
		// sandbox's test channel takes KRW only.
		return 0, 0, 0, http.StatusBadRequest, "INVALID_REQUEST", fmt.Sprintf("지원하지 않는 통화입니다: %s", in.Currency)
	}
	total, taxFree, vat, bad := in.Amount.amounts()
	if bad != "" {
		return 0, 0, 0, http.StatusBadRequest, "INVALID_REQUEST", bad
	}
	if taxFree+vat > total {
		return 0, 0, 0, http.StatusConflict, "SUM_OF_PARTS_EXCEEDS_TOTAL_AMOUNT", "면세 금액과 부가세의 합이 결제 금액을 초과합니다."
	}
	return total, taxFree, vat, 0, "", ""
}

func (in chargeInput) customer() customer {
	c := customer{ID: in.Customer.ID, Email: in.Customer.Email, PhoneNumber: in.Customer.PhoneNumber}
	if in.Customer.Name != nil {
		c.Name = in.Customer.Name.Full
	}
	return c
}

// usableKey returns the key or the error a charge or schedule gets; s.mu
// is held.
func usableKey(a *account, key string) (*billingKey, int, string, string) {
	k := a.keys[key]
	switch {
	case k == nil:
		return nil, http.StatusNotFound, "BILLING_KEY_NOT_FOUND", "빌링키가 존재하지 않습니다."
	case k.status == "DELETED":
		return nil, http.StatusConflict, "BILLING_KEY_ALREADY_DELETED", "삭제된 빌링키입니다."
	}
	return k, 0, "", ""
}

// record stores an attempt: paid, or failed for the decline digit (or a
// key gone by the time a schedule runs); s.mu is held.
func (s *Server) record(a *account, id string, k *billingKey, in chargeInput, total, taxFree, vat int64, scheduleID string) *payment {
	now := s.now()
	p := &payment{id: id, txID: randomID("tx-"), storeID: a.StoreID, billingKey: in.BillingKey, scheduleID: scheduleID,
		orderName: in.OrderName, customData: in.CustomData, total: total, taxFree: taxFree, vat: vat, customer: in.customer(),
		requestedAt: now, updatedAt: now, noticeURLs: in.NoticeURLs}
	switch {
	case k == nil:
		p.status, p.failedAt = "FAILED", now
		p.failReason, p.failPGCode, p.failPGMessage = "빌링키가 존재하지 않습니다.", "", ""
	case total%10 == digitDecline:
		p.card, p.channel = k.card, k.channel
		p.status, p.failedAt = "FAILED", now
		p.failReason, p.failPGCode, p.failPGMessage = "잔액부족", "51", "잔액부족"
	default:
		p.card, p.channel = k.card, k.channel
		p.status, p.paidAt, p.pgTxID = "PAID", now, randomID("pg-tx-")
	}
	a.payments[id] = p
	a.attempts[id] = append(a.attempts[id], p)
	return p
}

// taken says why a paymentId cannot be charged or scheduled; s.mu is held.
func taken(a *account, id string) string {
	if p := a.payments[id]; p != nil && p.settled() {
		return "paid"
	}
	for _, sc := range a.schedules {
		if sc.paymentID == id && sc.live() {
			return "scheduled"
		}
	}
	return ""
}

// charge serves POST /payments/{paymentId}/billing-key.
func (s *Server) charge(w http.ResponseWriter, r *http.Request, a *account) {
	var in chargeInput
	if err := readBody(r, &in); err != nil {
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "요청 본문을 해석할 수 없습니다.")
		return
	}
	if !store(w, a, in.StoreID) {
		return
	}
	total, taxFree, vat, status, typ, msg := in.validate()
	if typ != "" {
		apiError(w, status, typ, msg)
		return
	}
	fault := total % 10
	if fault == digitBadGateway {
		// The gateway in front of PortOne failed: nothing reached it.
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html><body><h1>502 Bad Gateway</h1></body></html>"))
		return
	}
	id := r.PathValue("paymentId")
	s.mu.Lock()
	k, status, typ, msg := usableKey(a, in.BillingKey)
	if typ == "" {
		switch taken(a, id) {
		case "paid":
			status, typ, msg = http.StatusConflict, "ALREADY_PAID", "이미 결제가 완료된 결제 건입니다."
		case "scheduled":
			status, typ, msg = http.StatusConflict, "PAYMENT_SCHEDULE_ALREADY_EXISTS", "결제 예약 건이 이미 존재합니다."
		}
	}
	var p *payment
	var view map[string]any
	if typ == "" {
		p = s.record(a, id, k, in, total, taxFree, vat, "")
		view = p.render()
	}
	s.mu.Unlock()
	if typ != "" {
		apiError(w, status, typ, msg)
		return
	}
	data := map[string]string{"storeId": a.StoreID, "paymentId": id, "transactionId": p.txID}
	if p.status == "FAILED" {
		if !in.SkipWebhook {
			s.notify(a, in.NoticeURLs, "Transaction.Failed", data)
		}
		writeJSON(w, http.StatusBadGateway, map[string]string{"type": "PG_PROVIDER", "message": "PG사에서 결제를 거절했습니다.",
			"pgCode": "51", "pgMessage": "잔액부족"})
		return
	}
	if !in.SkipWebhook {
		s.notify(a, in.NoticeURLs, "Transaction.Paid", data)
	}
	body, _ := json.Marshal(map[string]any{"payment": map[string]string{"pgTxId": view["pgTxId"].(string), "paidAt": view["paidAt"].(string)}})
	switch fault {
	case digitSlow:
		if sleep(r.Context(), s.opts.SlowReply) {
			writeRaw(w, http.StatusOK, body)
		}
	case digitServerErr:
		apiError(w, http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", "일시적인 오류가 발생했습니다.")
	case digitGarbled:
		writeRaw(w, http.StatusOK, body[:len(body)/2])
	case digitDropped:
		panic(http.ErrAbortHandler) // net/http closes the connection, writes nothing
	default:
		writeRaw(w, http.StatusOK, body)
	}
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// getPayment serves GET /payments/{paymentId}?storeId=.
func (s *Server) getPayment(w http.ResponseWriter, r *http.Request, a *account) {
	if !store(w, a, storeIDParam(r)) {
		return
	}
	s.mu.Lock()
	p := a.payments[r.PathValue("paymentId")]
	var out map[string]any
	if p != nil {
		out = p.render()
	}
	s.mu.Unlock()
	if p == nil {
		apiError(w, http.StatusNotFound, "PAYMENT_NOT_FOUND", "결제 건이 존재하지 않습니다.")
		return
	}
	writeJSON(w, http.StatusOK, out)
}

type cancelInput struct {
	StoreID                  string      `json:"storeId"`
	Amount                   json.Number `json:"amount"`
	TaxFreeAmount            json.Number `json:"taxFreeAmount"`
	Reason                   string      `json:"reason"`
	CurrentCancellableAmount json.Number `json:"currentCancellableAmount"`
	SkipWebhook              bool        `json:"skipWebhook"`
}

// cancel serves POST /payments/{paymentId}/cancel: full (no amount) or
// partial, checked against currentCancellableAmount when sent.
func (s *Server) cancel(w http.ResponseWriter, r *http.Request, a *account) {
	var in cancelInput
	if err := readBody(r, &in); err != nil {
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "요청 본문을 해석할 수 없습니다.")
		return
	}
	if !store(w, a, in.StoreID) {
		return
	}
	amount, hasAmount, ok1 := whole(in.Amount)
	taxFree, _, ok2 := whole(in.TaxFreeAmount)
	check, hasCheck, ok3 := whole(in.CurrentCancellableAmount)
	if in.Reason == "" || !ok1 || !ok2 || !ok3 || (hasAmount && amount <= 0) || taxFree < 0 {
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "reason은 필수이고 금액은 양의 정수여야 합니다.")
		return
	}
	id := r.PathValue("paymentId")
	s.mu.Lock()
	p := a.payments[id]
	status, typ, msg := http.StatusConflict, "", ""
	var c cancellation
	left := int64(0)
	if p != nil {
		left = p.total - p.cancelled
	}
	if !hasAmount {
		amount = left
	}
	switch {
	case p == nil:
		status, typ, msg = http.StatusNotFound, "PAYMENT_NOT_FOUND", "결제 건이 존재하지 않습니다."
	case p.status == "CANCELLED":
		typ, msg = "PAYMENT_ALREADY_CANCELLED", "이미 취소된 결제 건입니다."
	case !p.settled():
		typ, msg = "PAYMENT_NOT_PAID", "결제가 완료되지 않은 결제 건입니다."
	case hasCheck && check != left:
		typ, msg = "CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN", fmt.Sprintf("취소 가능 금액(%d)이 요청의 currentCancellableAmount(%d)와 다릅니다.", left, check)
	case amount > left:
		typ, msg = "CANCEL_AMOUNT_EXCEEDS_CANCELLABLE_AMOUNT", "취소 금액이 취소 가능 금액을 초과합니다."
	case taxFree > amount:
		typ, msg = "SUM_OF_PARTS_EXCEEDS_CANCEL_AMOUNT", "면세 금액이 취소 금액을 초과합니다."
	default:
		now := s.now()
		c = cancellation{Status: "SUCCEEDED", ID: randomID("cancellation-"), PGCancellationID: randomID("pg-cancel-"),
			TotalAmount: amount, TaxFreeAmount: taxFree, VatAmount: max(amount-taxFree, 0) / 11, Reason: in.Reason,
			CancelledAt: stamp(now), RequestedAt: stamp(now), Trigger: "API"}
		p.cancellations = append(p.cancellations, c)
		p.cancelled += amount
		p.cancelledTaxFree += taxFree
		p.cancelledAt, p.updatedAt = now, now
		p.status = "PARTIAL_CANCELLED"
		if p.cancelled == p.total {
			p.status = "CANCELLED"
		}
	}
	var event string
	var data map[string]string
	if typ == "" {
		event = "Transaction." + map[string]string{"CANCELLED": "Cancelled", "PARTIAL_CANCELLED": "PartialCancelled"}[p.status]
		data = map[string]string{"storeId": a.StoreID, "paymentId": id, "transactionId": p.txID, "cancellationId": c.ID}
	}
	var notice []string
	if p != nil {
		notice = p.noticeURLs
	}
	s.mu.Unlock()
	if typ != "" {
		apiError(w, status, typ, msg)
		return
	}
	if !in.SkipWebhook {
		s.notify(a, notice, event, data)
	}
	writeJSON(w, http.StatusOK, map[string]any{"cancellation": c})
}

// SetPaymentStatus overwrites the status of a payment, for tests of
// statuses the sandbox never produces by itself (PAY_PENDING, a status
// added by a later API version). It reports whether the payment exists.
func (s *Server) SetPaymentStatus(paymentID, status string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.accounts {
		if p := a.payments[paymentID]; p != nil {
			p.status = status
			return true
		}
	}
	return false
}

// Attempt is one recorded charge of a paymentId, for tests.
type Attempt struct {
	Status string // PAID, FAILED, PARTIAL_CANCELLED, CANCELLED …
	Amount int64
}

// Attempts returns every attempt recorded for a paymentId, in any store,
// oldest first. A test proving "charged exactly once" counts the paid ones.
func (s *Server) Attempts(paymentID string) []Attempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Attempt
	for _, a := range s.accounts {
		for _, p := range a.attempts[paymentID] {
			out = append(out, Attempt{Status: p.status, Amount: p.total})
		}
	}
	return out
}
