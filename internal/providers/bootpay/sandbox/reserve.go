package sandbox

import (
	"context"
	"errors"
	"sort"
	"time"
)

// Reservation statuses: v1's documented codes (0 waiting, 1 done, 2 error
// during run, 3 cancelled), used for v2 too (v2's are undocumented).
const (
	reserveWaiting   = 0
	reserveDone      = 1
	reserveFailed    = 2
	reserveCancelled = 3
)

// Reservations allowed per billing key: v2 10, v1 5 (reference §8).
var reserveLimit = map[int]int{1: 5, 2: 10}

type reservation struct {
	id, appID                                              string
	in                                                     chargeInput
	status                                                 int
	receiptID                                              string
	requestedAt, executeAt, startedAt, finishedAt, revoked time.Time
}

// parseExecuteAt reads v2's reserve_execute_at: ISO-8601 with an offset, or
// the "Y-m-d H:i:s UTC" form the PHP SDK example sends.
func parseExecuteAt(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02 15:04:05 MST", s); err == nil {
		return t, nil
	}
	return time.Time{}, errors.New("bad time")
}

func (s *Server) reserve(a *account, in chargeInput, at time.Time) (reservation, *apiErr) {
	switch {
	case in.billingKey == "" || in.orderID == "" || in.orderName == "":
		return reservation{}, badRequest("INVALID_PARAMETER", "billing_key, order_id, order_name 값이 필요합니다")
	case in.price <= 0 || in.taxFree < 0 || in.taxFree > in.price:
		return reservation{}, badRequest("INVALID_PRICE", "결제 금액이 올바르지 않습니다")
	}
	now := s.Now()
	if !at.After(now) {
		return reservation{}, badRequest("RESERVE_EXECUTE_AT_INVALID", "예약 시각은 현재 이후여야 합니다")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.keys[in.billingKey]
	if k == nil || k.appID != a.appID || k.status != statusKeyIssued {
		return reservation{}, notFound("BILLING_KEY_NOT_FOUND", "빌링키를 찾을 수 없습니다")
	}
	if s.waiting[in.billingKey] >= reserveLimit[in.version] {
		return reservation{}, badRequest("RESERVE_LIMIT_EXCEEDED", "빌링키당 예약 가능 건수를 초과했습니다")
	}
	rv := &reservation{id: s.newID(0x7e5e), appID: a.appID, in: in, requestedAt: now, executeAt: at}
	s.reserves[rv.id] = rv
	s.waiting[in.billingKey]++
	return *rv, nil
}

// unwait counts a reservation out of its key's waiting total (s.mu held).
func (s *Server) unwait(key string) {
	if s.waiting[key]--; s.waiting[key] <= 0 {
		delete(s.waiting, key)
	}
}

func (s *Server) lookupReserve(a *account, id string) (reservation, *apiErr) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	rv := s.reserves[id]
	if rv == nil || rv.appID != a.appID {
		return reservation{}, notFound("RESERVE_NOT_FOUND", "예약 내역을 찾을 수 없습니다")
	}
	return *rv, nil
}

func (s *Server) cancelReserve(a *account, id string) (reservation, *apiErr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rv := s.reserves[id]
	if rv == nil || rv.appID != a.appID {
		return reservation{}, notFound("RESERVE_NOT_FOUND", "예약 내역을 찾을 수 없습니다")
	}
	if rv.status != reserveWaiting {
		return reservation{}, badRequest("RESERVE_NOT_CANCELLABLE", "이미 실행되었거나 취소된 예약입니다")
	}
	rv.status, rv.revoked = reserveCancelled, s.Now()
	s.unwait(rv.in.billingKey)
	return *rv, nil
}

// RunDue runs every waiting reservation whose time has come on the sandbox
// clock, as Bootpay's scheduler would: the charge follows the amount table
// (doc.go), and a paid run posts its feedback webhook before RunDue
// returns (first attempt; failures are retried in the background). It
// returns how many reservations ran.
func (s *Server) RunDue(ctx context.Context) int {
	now := s.Now()
	s.mu.Lock()
	var due []*reservation
	for _, rv := range s.reserves {
		if rv.status == reserveWaiting && !rv.executeAt.After(now) {
			rv.startedAt = now
			rv.status = -1 // running: not cancellable, not run twice
			s.unwait(rv.in.billingKey)
			due = append(due, rv)
		}
	}
	s.mu.Unlock()
	sort.Slice(due, func(i, j int) bool { return due[i].executeAt.Before(due[j].executeAt) })
	for _, rv := range due {
		if ctx.Err() != nil {
			s.mu.Lock()
			rv.status = reserveWaiting // not run: leave it for the next RunDue
			s.waiting[rv.in.billingKey]++
			s.mu.Unlock()
			continue
		}
		s.runReservation(ctx, rv)
	}
	return len(due)
}

func (s *Server) runReservation(ctx context.Context, rv *reservation) {
	s.mu.RLock()
	a := s.accounts[rv.appID]
	s.mu.RUnlock()
	status, receiptID := reserveFailed, ""
	if rv.in.price%10 != 7 { // 7: the run fails before reaching the PG
		rc, _, e := s.chargeQuiet(a, rv.in)
		if e == nil || rc.id != "" {
			receiptID = rc.id
		}
		if e == nil && rc.status == statusPaid {
			status = reserveDone
			s.deliverNow(ctx, rc, "PAYMENT_COMPLETED")
		}
	}
	s.mu.Lock()
	rv.status, rv.receiptID, rv.finishedAt = status, receiptID, s.Now()
	s.mu.Unlock()
}

func (rv reservation) v2() map[string]any {
	return map[string]any{"reserve_id": rv.id, "receipt_id": rv.receiptID, "order_id": rv.in.orderID,
		"price": rv.in.price, "tax_free": rv.in.taxFree, "order_name": rv.in.orderName, "feedback_url": rv.in.feedbackURL,
		"content_type": "application/json", "version": 2, "metadata": emptyObject,
		"reserve_requested_at": v2Time(rv.requestedAt), "reserve_execute_at": v2Time(rv.executeAt),
		"reserve_started_at": v2Time(rv.startedAt), "reserve_finished_at": v2Time(rv.finishedAt),
		"reserve_revoked_at": v2Time(rv.revoked), "status": rv.status}
}
