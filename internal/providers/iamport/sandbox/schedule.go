package sandbox

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync"
)

// schedule serves POST /subscribe/payments/schedule. It is all or nothing:
// one bad item refuses the whole request. An unknown customer_uid is issued
// on the fly when card data comes along (REST PGs only), as Iamport does.
func (s *Server) schedule(w http.ResponseWriter, r *http.Request, a *account) {
	if !s.holdSchedule(r) {
		return
	}
	p, err := readParams(r)
	if err != nil {
		fail(w, http.StatusBadRequest, -1, "요청 본문을 해석할 수 없습니다.")
		return
	}
	uid, items := p.str("customer_uid"), p.objects("schedules")
	if uid == "" || len(items) == 0 {
		fail(w, http.StatusBadRequest, -1, "customer_uid, schedules 파라메터가 누락되었습니다.")
		return
	}
	recs := make([]*Schedule, len(items))
	for i, it := range items {
		at, _, err1 := it.int("schedule_at")
		amount, _, err2 := it.int("amount")
		taxFree, _, err3 := it.int("tax_free")
		cur := it.str("currency")
		if cur == "" {
			cur = "KRW"
		}
		if it.str("merchant_uid") == "" || at <= 0 || amount <= 0 || err1 != nil || err2 != nil || err3 != nil ||
			taxFree < 0 || taxFree > amount || cur != "KRW" {
			fail(w, http.StatusBadRequest, -1, fmt.Sprintf("schedules[%d]: merchant_uid, schedule_at, amount가 올바르지 않습니다.", i))
			return
		}
		recs[i] = &Schedule{
			CustomerUID: uid, MerchantUID: it.str("merchant_uid"), ScheduleAt: at, Amount: amount, Currency: cur,
			Name: NullString(it.str("name")), BuyerName: NullString(it.str("buyer_name")),
			BuyerEmail: NullString(it.str("buyer_email")), BuyerTel: NullString(it.str("buyer_tel")),
			BuyerAddr: NullString(it.str("buyer_addr")), BuyerPostcode: NullString(it.str("buyer_postcode")),
			CustomData: NullString(it.str("custom_data")), ScheduleStatus: "scheduled",
			taxFree: taxFree, noticeURL: it.str("notice_url"),
		}
	}
	s.mu.Lock()
	out, e := s.addSchedules(a, uid, p, recs)
	s.mu.Unlock()
	if e != nil {
		e.write(w)
		return
	}
	ok(w, out)
}

// addSchedules validates against the account and stores; s.mu is held.
func (s *Server) addSchedules(a *account, uid string, p params, recs []*Schedule) ([]Schedule, *apiError) {
	now := s.now().Unix()
	seen := map[string]bool{}
	for _, rec := range recs {
		if rec.ScheduleAt <= now {
			return nil, &apiError{http.StatusOK, 1, fmt.Sprintf("예약시각(%d)은 현재시각 이후여야 합니다.", rec.ScheduleAt)}
		}
		if why := a.orderTaken(rec.MerchantUID); why != "" || seen[rec.MerchantUID] {
			return nil, &apiError{http.StatusOK, 1, fmt.Sprintf("merchant_uid(%s)는 이미 사용된 주문번호입니다.", rec.MerchantUID)}
		}
		seen[rec.MerchantUID] = true
	}
	c := a.customers[uid]
	if c == nil {
		if p.str("card_number") == "" {
			return nil, &apiError{http.StatusOK, 1, "등록된 고객정보가 없습니다."}
		}
		var e *apiError
		if c, e = s.registerCard(a, uid, p); e != nil {
			return nil, e
		}
	}
	out := make([]Schedule, len(recs))
	for i, rec := range recs {
		rec.PGProvider, rec.PGID, rec.CustomerID = NullString(c.PGProvider), NullString(c.PGID), c.CustomerID
		a.schedules[rec.MerchantUID] = rec
		out[i] = *rec
	}
	return out, nil
}

// unschedule serves POST /subscribe/payments/unschedule: revoke the listed
// merchant_uids (a JSON array, a single string, or merchant_uid[] form
// fields), or every pending schedule of customer_uid when none are listed.
func (s *Server) unschedule(w http.ResponseWriter, r *http.Request, a *account) {
	if s.unscheduleFails() {
		fail(w, http.StatusInternalServerError, -1, "일시적인 오류가 발생했습니다. 잠시 후 다시 시도해주세요.")
		return
	}
	p, err := readParams(r)
	if err != nil {
		fail(w, http.StatusBadRequest, -1, "요청 본문을 해석할 수 없습니다.")
		return
	}
	uid, muids := p.str("customer_uid"), p.list("merchant_uid")
	if uid == "" && len(muids) == 0 {
		fail(w, http.StatusBadRequest, -1, "customer_uid 또는 merchant_uid 파라메터가 필요합니다.")
		return
	}
	s.mu.Lock()
	var hit []*Schedule
	if len(muids) > 0 {
		for _, m := range muids {
			if sch := a.schedules[m]; sch != nil && (uid == "" || sch.CustomerUID == uid) {
				hit = append(hit, sch)
			}
		}
	} else {
		for _, sch := range a.schedules {
			if sch.CustomerUID == uid {
				hit = append(hit, sch)
			}
		}
		sort.Slice(hit, func(i, j int) bool { return hit[i].ScheduleAt < hit[j].ScheduleAt })
	}
	now := s.now().Unix()
	out := []Schedule{}
	for _, sch := range hit {
		if sch.ScheduleStatus == "scheduled" {
			sch.ScheduleStatus, sch.RevokedAt = "revoked", now
			out = append(out, *sch)
		}
	}
	s.mu.Unlock()
	if len(out) == 0 {
		fail(w, http.StatusOK, 1, "취소할 예약결제 기록이 존재하지 않습니다.")
		return
	}
	ok(w, out)
}

// getSchedule serves GET /subscribe/payments/schedule/{merchant_uid}.
func (s *Server) getSchedule(w http.ResponseWriter, r *http.Request, a *account) {
	s.mu.Lock()
	sch, found := a.schedules[r.PathValue("merchant_uid")]
	var cp Schedule
	if found {
		cp = *sch
	}
	s.mu.Unlock()
	if !found {
		fail(w, http.StatusNotFound, 1, "요청하신 merchant_uid의 예약결제 정보가 존재하지 않습니다.")
		return
	}
	ok(w, cp)
}

// runDueSenders is how many of RunDue's webhooks are in flight at once.
const runDueSenders = 32

// RunDue executes every schedule whose schedule_at is at or before the
// sandbox clock, like Iamport's scheduler: each becomes a payment
// (customer_uid_usage "payment.scheduled", imp_uid prefix "imps_") that is
// paid, or failed when the amount ends in 4 or the key is gone. Then it posts
// each schedule's webhook (status paid or failed) to its notice_url and waits
// for those deliveries, so when RunDue returns the receivers have been
// called. It returns the executed schedules, oldest first; a schedule runs
// once however often RunDue is called. A later test clock drives it as
// Advance(t) followed by RunDue(ctx).
func (s *Server) RunDue(ctx context.Context) ([]Schedule, error) {
	s.mu.Lock()
	now := s.now().Unix()
	type due struct {
		a   *account
		sch *Schedule
	}
	var dues []due
	for _, a := range s.accounts {
		for _, sch := range a.schedules {
			if sch.ScheduleStatus == "scheduled" && sch.ScheduleAt <= now {
				dues = append(dues, due{a, sch})
			}
		}
	}
	sort.Slice(dues, func(i, j int) bool {
		if dues[i].sch.ScheduleAt != dues[j].sch.ScheduleAt {
			return dues[i].sch.ScheduleAt < dues[j].sch.ScheduleAt
		}
		return dues[i].sch.MerchantUID < dues[j].sch.MerchantUID
	})
	out := make([]Schedule, 0, len(dues))
	var hooks []webhook
	for _, d := range dues {
		sch := d.sch
		pay := s.newPayment(d.a, sch.CustomerUID, d.a.customers[sch.CustomerUID], charge{
			merchantUID: sch.MerchantUID, amount: sch.Amount, name: string(sch.Name), customData: string(sch.CustomData),
			noticeURL: sch.noticeURL, buyerName: string(sch.BuyerName), buyerEmail: string(sch.BuyerEmail),
			buyerTel: string(sch.BuyerTel), buyerAddr: string(sch.BuyerAddr), buyerPostcode: string(sch.BuyerPostcode),
			usage: "payment.scheduled", prefix: "imps_",
		})
		sch.ScheduleStatus, sch.ExecutedAt = "executed", now
		sch.ImpUID, sch.PaymentStatus, sch.FailReason = NullString(pay.ImpUID), NullString(pay.Status), pay.FailReason
		out = append(out, *sch)
		hooks = append(hooks, webhook{url: sch.noticeURL, impUID: pay.ImpUID, merchantUID: pay.MerchantUID, status: pay.Status})
	}
	s.mu.Unlock()

	s.hookMu.Lock()
	off := s.hooksOff
	s.hookMu.Unlock()
	// A few senders at a time, as a PG's delivery workers: a wave of
	// thousands at once would hold as many connections (and file
	// descriptors) on both sides, and the receiver refuses what it cannot
	// take within its wait.
	var wg sync.WaitGroup
	senders := make(chan struct{}, runDueSenders)
	for _, h := range hooks {
		if h.url == "" || off {
			continue
		}
		wg.Add(1)
		senders <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-senders }()
			s.deliver(ctx, h)
		}()
	}
	wg.Wait()
	return out, ctx.Err()
}
