package sandbox

import (
	"encoding/json"
	"net/http"

	"github.com/go-chi/chi/v5"
)

// v2 replies are bare objects; failures are {error_code, message,
// pg_error_code?} with a 4xx/5xx status.

func (s *Server) v2Receipt(w http.ResponseWriter, r *http.Request) {
	rc, e := s.lookupReceipt(accountOf(r), chi.URLParam(r, "id"))
	if e != nil {
		writeV2Err(w, e)
		return
	}
	writeJSON(w, http.StatusOK, rc.v2())
}

func (s *Server) v2Certificate(w http.ResponseWriter, r *http.Request) {
	c, e := s.lookupCertificate(accountOf(r), chi.URLParam(r, "id"))
	if e != nil {
		writeV2Err(w, e)
		return
	}
	writeJSON(w, http.StatusOK, c.v2())
}

type v2IssueKeyReq struct {
	PG              string `json:"pg"`
	OrderName       string `json:"order_name"`
	SubscriptionID  string `json:"subscription_id"`
	CardNo          string `json:"card_no"`
	CardPw          string `json:"card_pw"`
	CardIdentityNo  string `json:"card_identity_no"`
	CardExpireYear  string `json:"card_expire_year"`
	CardExpireMonth string `json:"card_expire_month"`
}

func (s *Server) v2IssueKey(w http.ResponseWriter, r *http.Request) {
	var req v2IssueKeyReq
	if e := decode(r, &req); e != nil {
		writeV2Err(w, e)
		return
	}
	if req.PG == "" || req.OrderName == "" || req.SubscriptionID == "" {
		writeV2Err(w, badRequest("INVALID_PARAMETER", "pg, order_name, subscription_id 값이 필요합니다"))
		return
	}
	if e := cardInput(req.CardNo, req.CardExpireYear, req.CardExpireMonth, req.CardIdentityNo); e != nil {
		writeV2Err(w, e)
		return
	}
	k, e := s.issueKey(accountOf(r), req.PG, req.SubscriptionID, req.CardNo)
	if e != nil {
		writeV2Err(w, e)
		return
	}
	writeJSON(w, http.StatusOK, k.v2())
}

func (s *Server) v2KeyByReceipt(w http.ResponseWriter, r *http.Request) {
	s.v2Key(w, r, true, chi.URLParam(r, "id"))
}

func (s *Server) v2KeyByKey(w http.ResponseWriter, r *http.Request) {
	s.v2Key(w, r, false, chi.URLParam(r, "key"))
}

func (s *Server) v2Key(w http.ResponseWriter, r *http.Request, byReceipt bool, id string) {
	k, e := s.lookupKey(accountOf(r), byReceipt, id)
	if e != nil {
		writeV2Err(w, e)
		return
	}
	writeJSON(w, http.StatusOK, k.v2())
}

func (s *Server) v2DeleteKey(w http.ResponseWriter, r *http.Request) {
	k, e := s.deleteKey(accountOf(r), chi.URLParam(r, "key"))
	if e != nil {
		writeV2Err(w, e)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"billing_key": k.key})
}

type v2ChargeReq struct {
	BillingKey       string          `json:"billing_key"`
	OrderName        string          `json:"order_name"`
	OrderID          string          `json:"order_id"`
	Price            json.Number     `json:"price"`
	TaxFree          json.Number     `json:"tax_free"`
	FeedbackURL      string          `json:"feedback_url"`
	ContentType      string          `json:"content_type"`
	Metadata         json.RawMessage `json:"metadata"`
	ReserveExecuteAt string          `json:"reserve_execute_at"`
}

func (req v2ChargeReq) input() (chargeInput, *apiErr) {
	price, ok1 := wholeNumber(req.Price)
	tax, ok2 := wholeNumber(req.TaxFree)
	if !ok1 || !ok2 {
		return chargeInput{}, badRequest("INVALID_PRICE", "금액은 원 단위 정수여야 합니다")
	}
	return chargeInput{version: 2, billingKey: req.BillingKey, orderID: req.OrderID, orderName: req.OrderName,
		price: price, taxFree: tax, feedbackURL: req.FeedbackURL,
		feedbackForm: req.ContentType == "application/x-www-form-urlencoded", metadata: req.Metadata}, nil
}

func (s *Server) v2Charge(w http.ResponseWriter, r *http.Request) {
	var req v2ChargeReq
	if e := decode(r, &req); e != nil {
		writeV2Err(w, e)
		return
	}
	in, e := req.input()
	if e != nil {
		writeV2Err(w, e)
		return
	}
	rc, oc, e := s.charge(accountOf(r), in)
	if s.replyFault(w, r, oc, e, 2) {
		return
	}
	writeJSON(w, http.StatusOK, rc.v2())
}

// replyFault writes the reply for every charge outcome but a plain
// receipt, and reports whether it did. The lost-reply hold ends when the
// client goes away; the payment is already recorded either way.
func (s *Server) replyFault(w http.ResponseWriter, r *http.Request, oc outcome, e *apiErr, version int) bool {
	if e != nil {
		if version == 1 {
			writeV1Err(w, e)
		} else {
			writeV2Err(w, e)
		}
		return true
	}
	switch oc {
	case reply502:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>\n"))
		return true
	case reply500:
		e := &apiErr{status: http.StatusInternalServerError, code: "INTERNAL_SERVER_ERROR", v1code: -1, msg: "일시적인 오류가 발생했습니다"}
		if version == 1 {
			writeV1Err(w, e)
		} else {
			writeV2Err(w, e)
		}
		return true
	case replySlow:
		wait(r.Context(), s.opts.SlowReply)
		return r.Context().Err() != nil
	}
	return false
}

func (s *Server) v2Reserve(w http.ResponseWriter, r *http.Request) {
	var req v2ChargeReq
	if e := decode(r, &req); e != nil {
		writeV2Err(w, e)
		return
	}
	in, e := req.input()
	if e != nil {
		writeV2Err(w, e)
		return
	}
	at, err := parseExecuteAt(req.ReserveExecuteAt)
	if err != nil {
		writeV2Err(w, badRequest("RESERVE_EXECUTE_AT_INVALID", "reserve_execute_at 값을 확인해주세요 (ISO-8601)"))
		return
	}
	rv, e := s.reserve(accountOf(r), in, at)
	if e != nil {
		writeV2Err(w, e)
		return
	}
	if s.reserveReplyLost() {
		e := &apiErr{status: http.StatusInternalServerError, code: "INTERNAL_SERVER_ERROR", v1code: -1, msg: "일시적인 오류가 발생했습니다"}
		writeV2Err(w, e)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"reserve_id": rv.id, "reserve_execute_at": v2Time(rv.executeAt)})
}

func (s *Server) v2LookupReserve(w http.ResponseWriter, r *http.Request) {
	rv, e := s.lookupReserve(accountOf(r), chi.URLParam(r, "id"))
	if e != nil {
		writeV2Err(w, e)
		return
	}
	writeJSON(w, http.StatusOK, rv.v2())
}

func (s *Server) v2CancelReserve(w http.ResponseWriter, r *http.Request) {
	rv, e := s.cancelReserve(accountOf(r), chi.URLParam(r, "id"))
	if e != nil {
		writeV2Err(w, e)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"reserve_id": rv.id, "success": true})
}

type v2CancelReq struct {
	ReceiptID      string      `json:"receipt_id"`
	CancelPrice    json.Number `json:"cancel_price"`
	CancelTaxFree  json.Number `json:"cancel_tax_free"`
	CancelID       string      `json:"cancel_id"`
	CancelUsername string      `json:"cancel_username"`
	CancelMessage  string      `json:"cancel_message"`
}

func (s *Server) v2Cancel(w http.ResponseWriter, r *http.Request) {
	var req v2CancelReq
	if e := decode(r, &req); e != nil {
		writeV2Err(w, e)
		return
	}
	in, e := cancelIn(req.ReceiptID, req.CancelPrice, req.CancelTaxFree, req.CancelID, req.CancelUsername, req.CancelMessage)
	if e != nil {
		writeV2Err(w, e)
		return
	}
	rc, _, e := s.cancel(accountOf(r), in)
	if e != nil {
		writeV2Err(w, e)
		return
	}
	writeJSON(w, http.StatusOK, rc.v2())
}

func cancelIn(receiptID string, price, taxFree json.Number, cancelID, username, reason string) (cancelInput, *apiErr) {
	p, ok1 := wholeNumber(price)
	t, ok2 := wholeNumber(taxFree)
	if receiptID == "" || !ok1 || !ok2 {
		return cancelInput{}, badRequest("INVALID_PARAMETER", "receipt_id 와 원 단위 정수 금액이 필요합니다")
	}
	in := cancelInput{receiptID: receiptID, taxFree: t, cancelID: cancelID, username: username, reason: reason}
	if price != "" {
		in.price = &p
	}
	return in, nil
}
