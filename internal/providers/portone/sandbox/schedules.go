package sandbox

import (
	"context"
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"
)

type scheduleInput struct {
	Payment   chargeInput `json:"payment"`
	TimeToPay string      `json:"timeToPay"`
}

// schedule serves POST /payments/{paymentId}/schedule.
func (s *Server) schedule(w http.ResponseWriter, r *http.Request, a *account) {
	var in scheduleInput
	if err := readBody(r, &in); err != nil {
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "요청 본문을 해석할 수 없습니다.")
		return
	}
	if !store(w, a, in.Payment.StoreID) {
		return
	}
	total, taxFree, vat, status, typ, msg := in.Payment.validate()
	if typ != "" {
		apiError(w, status, typ, msg)
		return
	}
	at, err := time.Parse(time.RFC3339Nano, in.TimeToPay)
	if err != nil {
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "timeToPay는 RFC 3339 시각이어야 합니다.")
		return
	}
	id := r.PathValue("paymentId")
	s.mu.Lock()
	now := s.now()
	_, status, typ, msg = usableKey(a, in.Payment.BillingKey)
	switch {
	case typ != "":
	case !at.After(now):
		status, typ, msg = http.StatusBadRequest, "INVALID_REQUEST", "timeToPay는 현재 시각 이후여야 합니다."
	case taken(a, id) != "":
		status, typ, msg = http.StatusConflict, "ALREADY_PAID_OR_WAITING", "이미 결제되었거나 결제 대기 중인 결제 건입니다."
	}
	var scheduleID string
	if typ == "" {
		sc := &schedule{id: randomID("schedule-"), paymentID: id, billingKey: in.Payment.BillingKey, storeID: a.StoreID,
			orderName: in.Payment.OrderName, customData: in.Payment.CustomData, status: "SCHEDULED", total: total,
			taxFree: taxFree, vat: vat, customer: in.Payment.customer(), noticeURLs: in.Payment.NoticeURLs,
			createdAt: now, timeToPay: at.UTC()}
		a.schedules[sc.id] = sc
		scheduleID = sc.id
	}
	s.mu.Unlock()
	if typ != "" {
		apiError(w, status, typ, msg)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"schedule": map[string]string{"id": scheduleID}})
}

// getSchedule serves GET /payment-schedules/{scheduleId}.
func (s *Server) getSchedule(w http.ResponseWriter, r *http.Request, a *account) {
	if !store(w, a, storeIDParam(r)) {
		return
	}
	s.mu.Lock()
	sc := a.schedules[r.PathValue("scheduleId")]
	var out map[string]any
	if sc != nil {
		out = sc.render()
	}
	s.mu.Unlock()
	if sc == nil {
		apiError(w, http.StatusNotFound, "PAYMENT_SCHEDULE_NOT_FOUND", "결제 예약 건이 존재하지 않습니다.")
		return
	}
	writeJSON(w, http.StatusOK, out)
}

type listInput struct {
	Page *struct {
		Number int `json:"number"`
		Size   int `json:"size"`
	} `json:"page"`
	Filter *struct {
		StoreID    string   `json:"storeId"`
		BillingKey string   `json:"billingKey"`
		From       string   `json:"from"`
		Until      string   `json:"until"`
		Status     []string `json:"status"`
	} `json:"filter"`
}

// listSchedules serves GET /payment-schedules (JSON body or ?requestBody=).
// The filter's window is on timeToPay and defaults to the 90 days ending
// now — future schedules are hidden unless until is set, as at PortOne.
// Newest timeToPay first; pages of 10 by default.
func (s *Server) listSchedules(w http.ResponseWriter, r *http.Request, a *account) {
	var in listInput
	if err := readBody(r, &in); err != nil {
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "요청 본문을 해석할 수 없습니다.")
		return
	}
	number, size := 0, 10
	if in.Page != nil {
		number, size = in.Page.Number, in.Page.Size
		if size == 0 {
			size = 10
		}
	}
	if number < 0 || size < 1 || size > 1000 {
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "page가 올바르지 않습니다.")
		return
	}
	now := s.now()
	until, from := now, time.Time{}
	var key string
	var statuses []string
	if f := in.Filter; f != nil {
		if !store(w, a, f.StoreID) {
			return
		}
		var err1, err2 error
		if f.Until != "" {
			until, err1 = time.Parse(time.RFC3339Nano, f.Until)
		}
		if f.From != "" {
			from, err2 = time.Parse(time.RFC3339Nano, f.From)
		}
		if err1 != nil || err2 != nil {
			apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "from, until은 RFC 3339 시각이어야 합니다.")
			return
		}
		key, statuses = f.BillingKey, f.Status
	}
	if from.IsZero() {
		from = until.AddDate(0, 0, -90)
	}
	s.mu.Lock()
	var hits []*schedule
	for _, sc := range a.schedules {
		if (key == "" || sc.billingKey == key) && !sc.timeToPay.Before(from) && !sc.timeToPay.After(until) &&
			(len(statuses) == 0 || slices.Contains(statuses, sc.status)) {
			hits = append(hits, sc)
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		if !hits[i].timeToPay.Equal(hits[j].timeToPay) {
			return hits[i].timeToPay.After(hits[j].timeToPay)
		}
		return hits[i].id < hits[j].id
	})
	items := []map[string]any{}
	for i := number * size; i < len(hits) && i < (number+1)*size; i++ {
		items = append(items, hits[i].render())
	}
	total := len(hits)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "page": map[string]int{"number": number, "size": len(items), "totalCount": total}})
}

type revokeInput struct {
	StoreID     string   `json:"storeId"`
	BillingKey  string   `json:"billingKey"`
	ScheduleIDs []string `json:"scheduleIds"`
}

// revokeSchedules serves DELETE /payment-schedules (JSON body or
// ?requestBody=): the listed schedules, or every pending one of the
// billing key when none are listed. All or nothing.
func (s *Server) revokeSchedules(w http.ResponseWriter, r *http.Request, a *account) {
	var in revokeInput
	if err := readBody(r, &in); err != nil {
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "요청 본문을 해석할 수 없습니다.")
		return
	}
	if !store(w, a, in.StoreID) {
		return
	}
	if in.BillingKey == "" && len(in.ScheduleIDs) == 0 {
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "billingKey 또는 scheduleIds가 필요합니다.")
		return
	}
	s.mu.Lock()
	status, typ, msg := http.StatusConflict, "", ""
	var hit []*schedule
	if in.BillingKey != "" {
		if _, st, t, m := usableKey(a, in.BillingKey); t != "" {
			status, typ, msg = st, t, m
		}
	}
	if typ == "" && len(in.ScheduleIDs) > 0 {
		for _, id := range in.ScheduleIDs {
			sc := a.schedules[id]
			switch {
			case sc == nil:
				status, typ, msg = http.StatusNotFound, "PAYMENT_SCHEDULE_NOT_FOUND", "결제 예약 건이 존재하지 않습니다."
			case in.BillingKey != "" && sc.billingKey != in.BillingKey:
				status, typ, msg = http.StatusBadRequest, "INVALID_REQUEST", "scheduleIds와 billingKey가 일치하지 않습니다."
			case sc.status == "REVOKED":
				typ, msg = "PAYMENT_SCHEDULE_ALREADY_REVOKED", "이미 취소된 결제 예약 건입니다."
			case sc.status != "SCHEDULED":
				typ, msg = "PAYMENT_SCHEDULE_ALREADY_PROCESSED", "이미 처리된 결제 예약 건입니다."
			}
			if typ != "" {
				break
			}
			hit = append(hit, sc)
		}
	} else if typ == "" {
		for _, sc := range a.schedules {
			if sc.billingKey == in.BillingKey && sc.status == "SCHEDULED" {
				hit = append(hit, sc)
			}
		}
	}
	now := s.now()
	ids := []string{}
	if typ == "" {
		for _, sc := range hit {
			sc.status, sc.revokedAt = "REVOKED", now
			ids = append(ids, sc.id)
		}
	}
	s.mu.Unlock()
	if typ != "" {
		apiError(w, status, typ, msg)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"revokedScheduleIds": ids, "revokedAt": stamp(now)})
}

// RunDue executes every schedule whose timeToPay is at or before the
// sandbox clock, as PortOne's scheduler would: each becomes a payment under
// its paymentId (paid; failed when the amount ends in 4 or the key is
// gone; 5–9 are paid, a run has no reply to lose), the schedule SUCCEEDED
// or FAILED, and its webhook is sent. It waits for those deliveries, so
// when it returns the receivers have been called. A test clock drives it
// as Advance(t) then RunDue(ctx). It returns how many schedules ran.
func (s *Server) RunDue(ctx context.Context) int {
	type run struct {
		a     *account
		event string
		urls  []string
		data  map[string]string
	}
	s.mu.Lock()
	now := s.now()
	var due []*schedule
	owner := map[*schedule]*account{}
	for _, a := range s.accounts {
		for _, sc := range a.schedules {
			if sc.status == "SCHEDULED" && !sc.timeToPay.After(now) {
				due = append(due, sc)
				owner[sc] = a
			}
		}
	}
	sort.Slice(due, func(i, j int) bool {
		if !due[i].timeToPay.Equal(due[j].timeToPay) {
			return due[i].timeToPay.Before(due[j].timeToPay)
		}
		return due[i].id < due[j].id
	})
	runs := make([]run, 0, len(due))
	for _, sc := range due {
		a := owner[sc]
		k, _, _, _ := usableKey(a, sc.billingKey)
		in := chargeInput{BillingKey: sc.billingKey, OrderName: sc.orderName, CustomData: sc.customData, NoticeURLs: sc.noticeURLs}
		in.Customer.ID, in.Customer.Email, in.Customer.PhoneNumber = sc.customer.ID, sc.customer.Email, sc.customer.PhoneNumber
		p := s.record(a, sc.paymentID, k, in, sc.total, sc.taxFree, sc.vat, sc.id)
		p.customer = sc.customer
		sc.startedAt, sc.completedAt = now, now
		event := "Transaction.Paid"
		sc.status = "SUCCEEDED"
		if p.status == "FAILED" {
			sc.status, event = "FAILED", "Transaction.Failed"
		}
		runs = append(runs, run{a: a, event: event, urls: sc.noticeURLs,
			data: map[string]string{"storeId": a.StoreID, "paymentId": p.id, "transactionId": p.txID}})
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, r := range runs {
		s.send(r.a, r.urls, r.event, r.data, &wg)
	}
	waitHooks(ctx, &wg)
	return len(runs)
}
