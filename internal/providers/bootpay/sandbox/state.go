package sandbox

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// Receipt and billing-key statuses (reference §4, §8).
const (
	statusWaiting        = 0
	statusPaid           = 1
	statusApproving      = 3
	statusKeyIssued      = 11
	statusVerified       = 12
	statusCancelled      = 20
	statusApprovalFailed = -2
	statusKeyRevoked     = -11
)

// card is what the sandbox knows of a card: masked number and issuer.
type card struct {
	masked, company, code string
	cardType              int // 0 credit, 1 check
}

// cardFor masks a card number and picks an issuer from its first digit.
func cardFor(number string) card {
	if number == "" {
		number = "5570420400001074"
	}
	masked := number
	if len(number) > 8 {
		masked = number[:4] + strings.Repeat("*", len(number)-8) + number[len(number)-4:]
	}
	switch number[0] {
	case '4':
		return card{masked: masked, company: "신한", code: "04"}
	case '9':
		return card{masked: masked, company: "BC", code: "01", cardType: 1}
	case '3':
		return card{masked: masked, company: "현대", code: "06"}
	default:
		return card{masked: masked, company: "KB국민", code: "02"}
	}
}

// receipt is a payment. Handlers work on copies taken under s.mu.
type receipt struct {
	id, appID, orderID, orderName, billingKey, pg string
	version                                       int // API generation that created it: webhook shape
	price, taxFree, cancelledPrice, cancelledTax  int64
	status                                        int
	card                                          card
	tid, approveNo                                string
	requestedAt, purchasedAt, cancelledAt         time.Time
	feedbackURL                                   string
	feedbackForm                                  bool // v1 default feedback_content_type urlencoded
	metadata                                      json.RawMessage
}

type billingKey struct {
	key, receiptID, appID, subscriptionID, pg string
	card                                      card
	status                                    int
	requestedAt, publishedAt                  time.Time
}

type certificate struct {
	id, appID                               string
	name, phone, birth, carrier, unique, di string
	gender                                  int
	foreigner, verified                     bool
	requestedAt, authenticatedAt            time.Time
}

// chargeInput is a subscribe payment, from either generation or from a
// reservation run.
type chargeInput struct {
	version                        int
	billingKey, orderID, orderName string
	price, taxFree                 int64
	feedbackURL                    string
	feedbackForm                   bool
	metadata                       json.RawMessage
}

// outcome is how the reply to a charge behaves (doc.go table).
type outcome int

const (
	replyReceipt outcome = iota // 200 with the receipt (paid, or approving)
	replyDecline                // PG decline
	replySlow                   // paid, reply held past the client's timeout
	reply500                    // paid, then 500
	reply502                    // nothing recorded, 502 from the "gateway"
)

var errDecline = &apiErr{status: http.StatusBadRequest, code: "SUBSCRIBE_PAYMENT_FAILED", msg: "잔액이 부족합니다",
	pgCode: "51", v1status: http.StatusInternalServerError, v1code: -15006,
	pgData: map[string]any{"ResultCode": "51", "ResultMsg": "잔액부족"}}

// charge records a subscribe payment according to the amount table and
// queues its webhook.
func (s *Server) charge(a *account, in chargeInput) (receipt, outcome, *apiErr) {
	rc, oc, e := s.chargeQuiet(a, in)
	if rc.status == statusPaid && rc.id != "" {
		s.notify(rc, "PAYMENT_COMPLETED")
	}
	return rc, oc, e
}

// chargeQuiet records a subscribe payment without notifying anyone.
func (s *Server) chargeQuiet(a *account, in chargeInput) (receipt, outcome, *apiErr) {
	switch {
	case in.billingKey == "" || in.orderID == "" || in.orderName == "":
		return receipt{}, 0, badRequest("INVALID_PARAMETER", "billing_key, order_id, order_name 값이 필요합니다")
	case in.price <= 0 || in.taxFree < 0 || in.taxFree > in.price:
		return receipt{}, 0, badRequest("INVALID_PRICE", "결제 금액이 올바르지 않습니다")
	}
	now := s.Now()
	s.mu.Lock()
	k := s.keys[in.billingKey]
	if k == nil || k.appID != a.appID || k.status != statusKeyIssued {
		s.mu.Unlock()
		return receipt{}, 0, notFound("BILLING_KEY_NOT_FOUND", "빌링키를 찾을 수 없습니다")
	}
	// The vendor: an order_id can be paid only once. A declined order may
	// be tried again.
	ok := orderKey(a.appID, in.orderID)
	for _, prev := range s.orders[ok] {
		if prev.status != statusApprovalFailed {
			s.mu.Unlock()
			return receipt{}, 0, badRequest("ORDER_ID_DUPLICATED", "이미 결제 요청된 order_id 입니다")
		}
	}
	behaviour := in.price % 10
	if behaviour == 7 {
		s.mu.Unlock()
		return receipt{}, reply502, nil
	}
	rc := &receipt{id: s.newID(0), appID: a.appID, orderID: in.orderID, orderName: in.orderName, billingKey: k.key,
		pg: k.pg, version: in.version, price: in.price, taxFree: in.taxFree, card: k.card,
		tid: "sbx" + randomHex(10), requestedAt: now, feedbackURL: in.feedbackURL, feedbackForm: in.feedbackForm,
		metadata: in.metadata}
	switch behaviour {
	case 4:
		rc.status = statusApprovalFailed
	case 3:
		rc.status = statusApproving
	default:
		rc.status, rc.purchasedAt, rc.approveNo = statusPaid, now, randomHex(4)
	}
	s.receipts[rc.id] = rc
	s.orders[ok] = append(s.orders[ok], rc)
	cp := *rc
	s.mu.Unlock()
	switch behaviour {
	case 4:
		return cp, replyDecline, errDecline
	case 5:
		return cp, replySlow, nil
	case 6:
		return cp, reply500, nil
	}
	return cp, replyReceipt, nil
}

func (s *Server) lookupReceipt(a *account, id string) (receipt, *apiErr) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	rc := s.receipts[id]
	if rc == nil || rc.appID != a.appID {
		return receipt{}, notFound("RECEIPT_NOT_FOUND", "영수증을 찾을 수 없습니다")
	}
	return *rc, nil
}

type cancelInput struct {
	receiptID, cancelID, username, reason string
	price                                 *int64 // nil or 0: the whole remaining balance
	taxFree                               int64
}

// cancel applies a full or partial cancel. A cancel_id may be used once
// per receipt: a repeat is refused, so a retried cancel never refunds twice.
func (s *Server) cancel(a *account, in cancelInput) (receipt, int64, *apiErr) {
	now := s.Now()
	s.mu.Lock()
	rc := s.receipts[in.receiptID]
	if rc == nil || rc.appID != a.appID {
		s.mu.Unlock()
		return receipt{}, 0, notFound("RECEIPT_NOT_FOUND", "영수증을 찾을 수 없습니다")
	}
	remain := rc.price - rc.cancelledPrice
	amt := remain
	if in.price != nil && *in.price > 0 {
		amt = *in.price
	}
	idKey := rc.id + "\x00" + in.cancelID
	var e *apiErr
	switch {
	case rc.status != statusPaid && rc.status != statusCancelled:
		e = badRequest("CANCEL_NOT_ALLOWED", "취소할 수 없는 결제 상태입니다")
	case remain == 0:
		e = badRequest("CANCEL_ALREADY_DONE", "이미 취소된 결제입니다")
	case in.cancelID != "" && s.cancelIDs[idKey]:
		e = badRequest("CANCEL_ID_DUPLICATED", "이미 처리된 cancel_id 입니다")
	case in.price != nil && *in.price < 0, amt > remain:
		e = badRequest("CANCEL_PRICE_OVER", "취소 금액이 취소 가능 금액보다 큽니다")
	case in.taxFree < 0 || in.taxFree > rc.taxFree-rc.cancelledTax || in.taxFree > amt:
		e = badRequest("CANCEL_TAX_FREE_OVER", "면세 취소 금액이 올바르지 않습니다")
	}
	if e != nil {
		s.mu.Unlock()
		return receipt{}, 0, e
	}
	if in.cancelID != "" {
		s.cancelIDs[idKey] = true
	}
	rc.cancelledPrice += amt
	rc.cancelledTax += in.taxFree
	if amt == remain && in.taxFree == 0 {
		rc.cancelledTax = rc.taxFree // a full cancel refunds the tax-free part too
	}
	rc.cancelledAt = now
	kind := "PAYMENT_PARTIAL_CANCELLED"
	if rc.cancelledPrice == rc.price {
		// Partial cancels keep status 1 (vendor guidance, 2026); a full
		// cancel is status 20.
		rc.status, kind = statusCancelled, "PAYMENT_CANCELLED"
	}
	cp := *rc
	s.mu.Unlock()
	s.notify(cp, kind)
	return cp, amt, nil
}
