package sandbox

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
)

// v1 replies are {status, code, message, data}; failures carry a negative
// code, and a PG failure is HTTP 500 with the PG's raw reply in data when
// the request asked for it (extra.raw_data).

func (s *Server) v1Receipt(w http.ResponseWriter, r *http.Request) {
	rc, e := s.lookupReceipt(accountOf(r), chi.URLParam(r, "id"))
	if e != nil {
		writeV1Err(w, e)
		return
	}
	writeV1(w, rc.v1())
}

func (s *Server) v1Certificate(w http.ResponseWriter, r *http.Request) {
	c, e := s.lookupCertificate(accountOf(r), chi.URLParam(r, "id"))
	if e != nil {
		writeV1Err(w, e)
		return
	}
	writeV1(w, c.v1())
}

type v1IssueKeyReq struct {
	OrderID        string `json:"order_id"`
	PG             string `json:"pg"`
	ItemName       string `json:"item_name"`
	CardNo         string `json:"card_no"`
	CardPw         string `json:"card_pw"`
	ExpireYear     string `json:"expire_year"`
	ExpireMonth    string `json:"expire_month"`
	IdentifyNumber string `json:"identify_number"`
}

func (s *Server) v1IssueKey(w http.ResponseWriter, r *http.Request) {
	var req v1IssueKeyReq
	if e := decode(r, &req); e != nil {
		writeV1Err(w, e)
		return
	}
	if req.PG == "" || req.ItemName == "" || req.OrderID == "" {
		writeV1Err(w, badRequest("INVALID_PARAMETER", "pg, item_name, order_id 값이 필요합니다"))
		return
	}
	if e := cardInput(req.CardNo, req.ExpireYear, req.ExpireMonth, req.IdentifyNumber); e != nil {
		writeV1Err(w, e)
		return
	}
	k, e := s.issueKey(accountOf(r), req.PG, req.OrderID, req.CardNo)
	if e != nil {
		writeV1Err(w, e)
		return
	}
	writeV1(w, k.v1())
}

func (s *Server) v1DeleteKey(w http.ResponseWriter, r *http.Request) {
	if _, e := s.deleteKey(accountOf(r), chi.URLParam(r, "key")); e != nil {
		writeV1Err(w, e)
		return
	}
	writeV1(w, nil)
}

type v1ChargeReq struct {
	BillingKey          string      `json:"billing_key"`
	ItemName            string      `json:"item_name"`
	OrderID             string      `json:"order_id"`
	Price               json.Number `json:"price"`
	TaxFree             json.Number `json:"tax_free"`
	FeedbackURL         string      `json:"feedback_url"`
	FeedbackContentType string      `json:"feedback_content_type"`
	SchedulerType       string      `json:"scheduler_type"`
	ExecuteAt           json.Number `json:"execute_at"`
	Extra               struct {
		RawData json.Number `json:"raw_data"`
	} `json:"extra"`
}

func (req v1ChargeReq) input() (chargeInput, *apiErr) {
	price, ok1 := wholeNumber(req.Price)
	tax, ok2 := wholeNumber(req.TaxFree)
	if !ok1 || !ok2 {
		return chargeInput{}, badRequest("INVALID_PRICE", "금액은 원 단위 정수여야 합니다")
	}
	return chargeInput{version: 1, billingKey: req.BillingKey, orderID: req.OrderID, orderName: req.ItemName,
		price: price, taxFree: tax, feedbackURL: req.FeedbackURL, feedbackForm: req.FeedbackContentType != "json"}, nil
}

func (s *Server) v1Charge(w http.ResponseWriter, r *http.Request) {
	var req v1ChargeReq
	if e := decode(r, &req); e != nil {
		writeV1Err(w, e)
		return
	}
	in, e := req.input()
	if e != nil {
		writeV1Err(w, e)
		return
	}
	rc, oc, e := s.charge(accountOf(r), in)
	if e != nil && req.Extra.RawData != "1" && e.pgData != nil {
		// Without extra.raw_data v1 does not return the PG's reply.
		cp := *e
		cp.pgData = nil
		e = &cp
	}
	if s.replyFault(w, r, oc, e, 1) {
		return
	}
	writeV1(w, rc.v1())
}

func (s *Server) v1Reserve(w http.ResponseWriter, r *http.Request) {
	var req v1ChargeReq
	if e := decode(r, &req); e != nil {
		writeV1Err(w, e)
		return
	}
	in, e := req.input()
	if e != nil {
		writeV1Err(w, e)
		return
	}
	sec, ok := wholeNumber(req.ExecuteAt)
	if !ok || sec <= 0 || (req.SchedulerType != "" && req.SchedulerType != "oneshot") {
		writeV1Err(w, badRequest("RESERVE_EXECUTE_AT_INVALID", "execute_at(unix time)과 scheduler_type(oneshot)을 확인해주세요"))
		return
	}
	rv, e := s.reserve(accountOf(r), in, time.Unix(sec, 0))
	if e != nil {
		writeV1Err(w, e)
		return
	}
	if s.reserveReplyLost() {
		e := &apiErr{status: http.StatusInternalServerError, code: "INTERNAL_SERVER_ERROR", v1code: -1, msg: "일시적인 오류가 발생했습니다"}
		writeV1Err(w, e)
		return
	}
	writeV1(w, map[string]any{"reserve_id": rv.id, "billing_key": rv.in.billingKey, "item_name": rv.in.orderName,
		"price": rv.in.price, "purchase_count": 0, "purchase_limit": 1, "execute_at": rv.executeAt.Unix(), "status": rv.status})
}

func (s *Server) v1CancelReserve(w http.ResponseWriter, r *http.Request) {
	if _, e := s.cancelReserve(accountOf(r), chi.URLParam(r, "id")); e != nil {
		writeV1Err(w, e)
		return
	}
	writeV1(w, nil)
}

type v1CancelReq struct {
	ReceiptID string      `json:"receipt_id"`
	Price     json.Number `json:"price"`
	TaxFree   json.Number `json:"tax_free"`
	Name      string      `json:"name"`
	Reason    string      `json:"reason"`
	CancelID  string      `json:"cancel_id"`
}

func (s *Server) v1Cancel(w http.ResponseWriter, r *http.Request) {
	var req v1CancelReq
	if e := decode(r, &req); e != nil {
		writeV1Err(w, e)
		return
	}
	in, e := cancelIn(req.ReceiptID, req.Price, req.TaxFree, req.CancelID, req.Name, req.Reason)
	if e != nil {
		writeV1Err(w, e)
		return
	}
	rc, amt, e := s.cancel(accountOf(r), in)
	if e != nil {
		writeV1Err(w, e)
		return
	}
	writeV1(w, map[string]any{"receipt_id": rc.id, "request_cancel_price": amt, "remain_price": rc.price - rc.cancelledPrice,
		"remain_tax_free": rc.taxFree - rc.cancelledTax, "cancelled_price": rc.cancelledPrice,
		"cancelled_tax_free": rc.cancelledTax, "revoked_at": v1Time(rc.cancelledAt), "tid": rc.tid})
}
