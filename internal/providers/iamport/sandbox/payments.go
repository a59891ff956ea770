package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
)

// Outcomes keyed on the last digit of the amount (see the table in doc.go).
const (
	digitDecline    = 4 // status failed, fail_reason 잔액부족
	digitSlow       = 5 // paid; reply held until the client gives up
	digitServerErr  = 6 // paid; HTTP 500
	digitBadGateway = 7 // nothing recorded; HTTP 502
	digitGarbled    = 8 // paid; HTTP 200 with a truncated body
	digitDropped    = 9 // paid; connection closed without a reply
)

const declineReason = "잔액부족"

// charge is one attempt to charge a key, from again or a scheduled run.
type charge struct {
	merchantUID                                               string
	amount                                                    int64
	name, customData, noticeURL                               string
	buyerName, buyerEmail, buyerTel, buyerAddr, buyerPostcode string
	usage                                                     string // customer_uid_usage
	prefix                                                    string // imp_uid prefix
}

// newPayment records an attempt with key uid; c is nil when the key does not
// exist (a scheduled run after the key was deleted). s.mu is held.
func (s *Server) newPayment(a *account, uid string, c *Customer, ch charge) *Payment {
	id := s.nextID()
	now := s.now().Unix()
	p := &Payment{
		ImpUID: fmt.Sprintf("%s%012d", ch.prefix, id), MerchantUID: ch.merchantUID, Channel: "api",
		PGTID: NullString(fmt.Sprintf("sandbox_tid_%012d", id)),
		Name:  NullString(ch.name), Amount: ch.amount, Currency: "KRW",
		BuyerName: NullString(ch.buyerName), BuyerEmail: NullString(ch.buyerEmail), BuyerTel: NullString(ch.buyerTel),
		BuyerAddr: NullString(ch.buyerAddr), BuyerPostcode: NullString(ch.buyerPostcode),
		CustomData: NullString(ch.customData), StartedAt: now,
		CancelHistory: []CancelHistory{}, CancelReceiptURLs: []string{},
		CustomerUID: NullString(uid), CustomerUIDUsage: NullString(ch.usage), Sandbox: true,
		seq: id, noticeURL: ch.noticeURL,
	}
	if c != nil {
		// buyer_* win; the key's customer_* fill what is missing (SPEC).
		p.PayMethod, p.PGProvider, p.PGID = c.payMethod, c.PGProvider, c.PGID
		p.CardName, p.CardCode, p.CardNumber, p.CardType = c.CardName, c.CardCode, c.CardNumber, c.CardType
		p.BuyerName = or(p.BuyerName, c.CustomerName)
		p.BuyerEmail = or(p.BuyerEmail, c.CustomerEmail)
		p.BuyerTel = or(p.BuyerTel, c.CustomerTel)
	}
	switch {
	case c == nil:
		p.Status, p.FailedAt, p.FailReason = "failed", now, "등록되지 않은 구매자입니다."
	case ch.amount%10 == digitDecline:
		p.Status, p.FailedAt, p.FailReason = "failed", now, declineReason
	default:
		p.Status, p.PaidAt = "paid", now
		p.ApplyNum = NullString(fmt.Sprintf("%08d", id%100000000))
		p.ReceiptURL = receiptURL(p.ImpUID)
	}
	a.payments[p.ImpUID] = p
	a.orders[ch.merchantUID] = append(a.orders[ch.merchantUID], p)
	return p
}

func or(a, b NullString) NullString {
	if a != "" {
		return a
	}
	return b
}

// again serves POST /subscribe/payments/again.
func (s *Server) again(w http.ResponseWriter, r *http.Request, a *account) {
	p, err := readParams(r)
	if err != nil {
		fail(w, http.StatusBadRequest, -1, "요청 본문을 해석할 수 없습니다.")
		return
	}
	uid, muid := p.str("customer_uid"), p.str("merchant_uid")
	amount, hasAmount, err := p.int("amount")
	taxFree, _, err2 := p.int("tax_free")
	switch {
	case uid == "" || muid == "" || !hasAmount:
		fail(w, http.StatusBadRequest, -1, "customer_uid, merchant_uid, amount 파라메터가 누락되었습니다.")
		return
	case err != nil || err2 != nil || amount <= 0 || taxFree < 0 || taxFree > amount:
		fail(w, http.StatusBadRequest, -1, "amount, tax_free 파라메터가 올바르지 않습니다.")
		return
	}
	fault := amount % 10
	if fault == digitBadGateway {
		// The gateway in front of the PG failed: nothing reached the PG.
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html><body><h1>502 Bad Gateway</h1></body></html>"))
		return
	}
	s.mu.Lock()
	c := a.customers[uid]
	if c == nil {
		s.mu.Unlock()
		fail(w, http.StatusOK, 1, "등록되지 않은 구매자입니다.")
		return
	}
	if why := a.orderTaken(muid); why != "" {
		s.mu.Unlock()
		fail(w, http.StatusOK, 1, why)
		return
	}
	pay := s.newPayment(a, uid, c, charge{
		merchantUID: muid, amount: amount, name: p.str("name"), customData: p.str("custom_data"),
		noticeURL: p.str("notice_url"), buyerName: p.str("buyer_name"), buyerEmail: p.str("buyer_email"),
		buyerTel: p.str("buyer_tel"), buyerAddr: p.str("buyer_addr"), buyerPostcode: p.str("buyer_postcode"),
		usage: "payment", prefix: "imp_",
	})
	cp := pay.clone()
	s.mu.Unlock()
	// A webhook on approval only: ordinary declines send none (WHDOC).
	if cp.Status == "paid" {
		s.notifyAsync(webhook{url: cp.noticeURL, impUID: cp.ImpUID, merchantUID: cp.MerchantUID, status: "paid"})
	}
	s.replyCharge(w, r, fault, cp)
}

// replyCharge answers a recorded charge, losing the reply on purpose for the
// fault digits: the payment stays paid whatever the client sees.
func (s *Server) replyCharge(w http.ResponseWriter, r *http.Request, fault int64, p Payment) {
	if p.Status != "paid" {
		ok(w, p)
		return
	}
	switch fault {
	case digitSlow:
		if sleep(r.Context(), s.slowReply()) {
			ok(w, p)
		}
	case digitServerErr:
		fail(w, http.StatusInternalServerError, -1, "일시적인 오류가 발생했습니다. 잠시 후 다시 시도해주세요.")
	case digitGarbled:
		b, _ := json.Marshal(envelope{Response: p})
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		_, _ = w.Write(b[:len(b)/2])
	case digitDropped:
		panic(http.ErrAbortHandler) // net/http closes the connection, writes nothing
	default:
		ok(w, p)
	}
}

const noPayment = "존재하지 않는 결제정보입니다."

// getPayment serves GET /payments/{imp_uid}. Sandbox payments are test-
// channel payments (sandbox: true), so, as SPEC says, they are found only
// with include_sandbox=true.
func (s *Server) getPayment(w http.ResponseWriter, r *http.Request, a *account) {
	incl, _ := strconv.ParseBool(r.URL.Query().Get("include_sandbox"))
	s.mu.Lock()
	pay, found := a.payments[r.PathValue("imp_uid")]
	var cp Payment
	if found {
		cp = pay.clone()
	}
	s.mu.Unlock()
	if !found || (cp.Sandbox && !incl) {
		fail(w, http.StatusNotFound, -1, noPayment)
		return
	}
	ok(w, cp)
}

var paymentStatuses = map[string]bool{"ready": true, "paid": true, "failed": true, "cancelled": true}

// findPayment serves GET /payments/find/{merchant_uid}[/{payment_status}]:
// the first attempt by ?sorting= (-started by default; started, -paid, paid;
// updated is treated as started).
func (s *Server) findPayment(w http.ResponseWriter, r *http.Request, a *account) {
	if s.findFailed(w) {
		return
	}
	status := r.PathValue("payment_status")
	if status != "" && !paymentStatuses[status] {
		fail(w, http.StatusBadRequest, -1, "payment_status는 ready, paid, failed, cancelled 중 하나여야 합니다.")
		return
	}
	sorting := r.URL.Query().Get("sorting")
	s.mu.Lock()
	var found []Payment
	for _, p := range a.orders[r.PathValue("merchant_uid")] {
		if status == "" || p.Status == status {
			found = append(found, p.clone())
		}
	}
	s.mu.Unlock()
	if len(found) == 0 {
		fail(w, http.StatusNotFound, -1, noPayment)
		return
	}
	key := func(p Payment) int64 { return p.seq }
	if sorting == "paid" || sorting == "-paid" {
		key = func(p Payment) int64 { return p.PaidAt }
	}
	desc := len(sorting) == 0 || sorting[0] == '-'
	sort.SliceStable(found, func(i, j int) bool {
		ki, kj := key(found[i]), key(found[j])
		if ki == kj {
			ki, kj = found[i].seq, found[j].seq
		}
		return (ki > kj) == desc
	})
	ok(w, found[0])
}

// cancel serves POST /payments/cancel: full or partial, with checksum.
func (s *Server) cancel(w http.ResponseWriter, r *http.Request, a *account) {
	p, err := readParams(r)
	if err != nil {
		fail(w, http.StatusBadRequest, -1, "요청 본문을 해석할 수 없습니다.")
		return
	}
	impUID, muid := p.str("imp_uid"), p.str("merchant_uid")
	amount, _, err1 := p.int("amount")
	taxFree, _, err2 := p.int("tax_free")
	checksum, hasChecksum, err3 := p.int("checksum")
	switch {
	case impUID == "" && muid == "":
		fail(w, http.StatusBadRequest, -1, "imp_uid 또는 merchant_uid 파라메터가 필요합니다.")
		return
	case err1 != nil || err2 != nil || err3 != nil || amount < 0 || taxFree < 0:
		fail(w, http.StatusBadRequest, -1, "amount, tax_free, checksum 파라메터가 올바르지 않습니다.")
		return
	}
	s.mu.Lock()
	var pay *Payment
	if impUID != "" { // imp_uid wins when both are given
		pay = a.payments[impUID]
	} else {
		for _, c := range a.orders[muid] {
			if c.Status == "paid" || c.Status == "cancelled" {
				pay = c
			}
		}
	}
	e := s.applyCancel(pay, amount, taxFree, checksum, hasChecksum, p.str("reason"))
	var cp Payment
	if e == nil {
		cp = pay.clone()
	}
	s.mu.Unlock()
	if e != nil {
		e.write(w)
		return
	}
	if p.bool("enable_webhook") {
		s.notifyAsync(webhook{url: cp.noticeURL, impUID: cp.ImpUID, merchantUID: cp.MerchantUID, status: "cancelled"})
	}
	ok(w, cp)
}

// applyCancel checks and applies a cancel; s.mu is held.
func (s *Server) applyCancel(pay *Payment, amount, taxFree, checksum int64, hasChecksum bool, reason string) *apiError {
	if pay == nil || (pay.Status != "paid" && pay.Status != "cancelled") {
		return &apiError{http.StatusOK, 1, "취소할 결제건이 존재하지 않습니다."}
	}
	if pay.Status == "cancelled" {
		return &apiError{http.StatusOK, 1, "이미 전액취소된 주문입니다."}
	}
	left := pay.Amount - pay.CancelAmount
	if hasChecksum && checksum != left {
		return &apiError{http.StatusOK, 1, fmt.Sprintf("[환불실패] 요청하신 checksum(%d)이 환불가능금액(%d)과 일치하지 않습니다.", checksum, left)}
	}
	if amount == 0 {
		amount = left
	}
	if amount > left {
		return &apiError{http.StatusOK, 1, fmt.Sprintf("취소요청금액(%d)이 취소가능금액(%d)을 초과합니다.", amount, left)}
	}
	if taxFree > amount {
		return &apiError{http.StatusOK, 1, "면세금액이 취소요청금액을 초과합니다."}
	}
	id := s.nextID()
	now := s.now().Unix()
	pay.CancelAmount += amount
	pay.CancelledAt = now
	pay.CancelReason = NullString(reason)
	receipt := receiptURL(fmt.Sprintf("%s/cancel/%d", pay.ImpUID, id))
	pay.CancelHistory = append(pay.CancelHistory, CancelHistory{
		PGTID: string(pay.PGTID), Amount: amount, CancelledAt: now, Reason: NullString(reason),
		CancellationID: fmt.Sprintf("cancel_%012d", id), ReceiptURL: receipt,
	})
	pay.CancelReceiptURLs = append(pay.CancelReceiptURLs, string(receipt))
	if pay.CancelAmount == pay.Amount {
		pay.Status = "cancelled"
	}
	return nil
}
