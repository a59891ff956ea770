package billing

import (
	"testing"
	"time"
)

func TestPeriodStartClampsMonthEnds(t *testing.T) {
	t.Parallel()
	seoul, _ := time.LoadLocation("Asia/Seoul")
	sub := Subscription{Interval: IntervalMonth, IntervalCount: 1, Timezone: "Asia/Seoul",
		Anchor: time.Date(2027, time.January, 31, 9, 30, 0, 0, seoul)}
	want := []string{
		"2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30", "2027-05-31", "2027-06-30",
		"2027-07-31", "2027-08-31", "2027-09-30", "2027-10-31", "2027-11-30", "2027-12-31", "2028-01-31", "2028-02-29",
	}
	for n, w := range want {
		got := sub.PeriodStart(n)
		if got.Format("2006-01-02") != w || got.Hour() != 9 || got.Minute() != 30 {
			t.Errorf("period %d starts %s, want %s 09:30 KST", n, got, w)
		}
		if p := sub.PeriodAt(got); p != n {
			t.Errorf("PeriodAt(start of %d) = %d", n, p)
		}
		if p := sub.PeriodAt(got.Add(-time.Second)); p != n-1 {
			t.Errorf("PeriodAt(just before %d) = %d", n, p)
		}
	}
}

func TestPeriodStartUnits(t *testing.T) {
	t.Parallel()
	anchor := time.Date(2028, time.February, 29, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		unit  string
		count int
		n     int
		want  string
	}{
		{IntervalDay, 1, 1, "2028-03-01"},
		{IntervalDay, 10, 3, "2028-03-30"},
		{IntervalWeek, 2, 1, "2028-03-14"},
		{IntervalMonth, 3, 1, "2028-05-29"},
		{IntervalYear, 1, 1, "2029-02-28"},
		{IntervalYear, 1, 4, "2032-02-29"},
	} {
		sub := Subscription{Interval: tt.unit, IntervalCount: tt.count, Timezone: "UTC", Anchor: anchor}
		if got := sub.PeriodStart(tt.n).Format("2006-01-02"); got != tt.want {
			t.Errorf("%d×%s period %d = %s, want %s", tt.count, tt.unit, tt.n, got, tt.want)
		}
	}
}

func TestSubscriptionInputValidate(t *testing.T) {
	t.Parallel()
	now := time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC)
	ok := func() SubscriptionInput {
		return SubscriptionInput{Amount: 9900, OrderName: "plan", Interval: IntervalMonth}
	}
	for _, tt := range []struct {
		name  string
		edit  func(*SubscriptionInput)
		param string
	}{
		{"Valid", func(*SubscriptionInput) {}, ""},
		{"ZeroAmount", func(in *SubscriptionInput) { in.Amount = 0 }, "amount"},
		{"BadInterval", func(in *SubscriptionInput) { in.Interval = "fortnight" }, "interval"},
		{"TooManyMonths", func(in *SubscriptionInput) { in.IntervalCount = 13 }, "interval_count"},
		{"BadZone", func(in *SubscriptionInput) { in.Timezone = "Mars/Olympus" }, "timezone"},
		{"PastStart", func(in *SubscriptionInput) { in.Start = "2020-01-01T00:00:00Z" }, "start"},
		{"GarbageStart", func(in *SubscriptionInput) { in.Start = "tomorrow" }, "start"},
		{"NoName", func(in *SubscriptionInput) { in.OrderName = " " }, "order_name"},
	} {
		in := ok()
		tt.edit(&in)
		_, err := in.Validate(now)
		var be *Error
		switch {
		case tt.param == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.param != "" && (!asError(err, &be) || be.Param != tt.param):
			t.Errorf("%s: error %v, want param %s", tt.name, err, tt.param)
		}
	}
}

func TestDunningFrom(t *testing.T) {
	t.Parallel()
	if d := DunningFrom(nil); len(d.RetryAfter) != 3 || d.OnExhausted != SubscriptionUnpaid {
		t.Fatalf("default %+v", d)
	}
	d := DunningFrom(map[string]any{"dunning": map[string]any{"retry_after": []any{"2h"}, "on_exhausted": "canceled"}})
	if len(d.RetryAfter) != 1 || d.RetryAfter[0] != 2*time.Hour || d.OnExhausted != SubscriptionCanceled {
		t.Fatalf("custom %+v", d)
	}
	if err := ValidateMerchantSettings(map[string]any{"dunning": map[string]any{"retry_after": []any{"5s"}}}); err == nil {
		t.Fatal("a 5-second retry was accepted")
	}
}

func TestSubscriptionTransitions(t *testing.T) {
	t.Parallel()
	at := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	active := Subscription{Status: SubscriptionActive, CurrentPeriod: 2}
	d := Dunning{RetryAfter: []time.Duration{time.Hour, 2 * time.Hour}, OnExhausted: SubscriptionUnpaid}

	s, ev := active.PeriodFailed(2, at, d, false)
	if s.Status != SubscriptionPastDue || s.RetryCount != 1 || !s.NextRetryAt.Equal(at.Add(time.Hour)) || ev != EventSubscriptionPastDue {
		t.Fatalf("first failure: %+v %s", s, ev)
	}
	s, ev = s.PeriodFailed(2, at, d, false)
	if s.Status != SubscriptionPastDue || !s.NextRetryAt.Equal(at.Add(2*time.Hour)) || ev != EventSubscriptionUpdated {
		t.Fatalf("second failure: %+v %s", s, ev)
	}
	exhausted, ev := s.PeriodFailed(2, at, d, false)
	if exhausted.Status != SubscriptionUnpaid || exhausted.NextRetryAt != nil || ev != EventSubscriptionUnpaid {
		t.Fatalf("exhausted: %+v %s", exhausted, ev)
	}
	recovered, ev := s.PeriodPaid(2)
	if recovered.Status != SubscriptionActive || recovered.RetryCount != 0 || recovered.NextRetryAt != nil || ev != EventSubscriptionRenewed {
		t.Fatalf("recovered: %+v %s", recovered, ev)
	}
	if _, ev := s.PeriodPaid(1); ev != "" {
		t.Fatalf("an old period's payment changed the subscription: %s", ev)
	}
	hard, ev := active.PeriodFailed(2, at, d, true)
	if hard.Status != SubscriptionUnpaid || ev != EventSubscriptionUnpaid {
		t.Fatalf("hard decline: %+v %s", hard, ev)
	}
	canceling := d
	canceling.OnExhausted = SubscriptionCanceled
	if c, ev := active.PeriodFailed(2, at, canceling, true); c.Status != SubscriptionCanceled || c.CanceledAt == nil || ev != EventSubscriptionCanceled {
		t.Fatalf("exhausted into canceled: %+v %s", c, ev)
	}
	paused := Subscription{Status: SubscriptionPaused, CurrentPeriod: 2}
	if _, ev := paused.PeriodFailed(2, at, d, false); ev != "" {
		t.Fatalf("a paused subscription started dunning: %s", ev)
	}
}

func TestIsHardDecline(t *testing.T) {
	t.Parallel()
	for msg, want := range map[string]bool{
		"잔액부족":               false,
		"한도초과":               false,
		"분실 신고된 카드입니다":       true,
		"도난카드":               true,
		"거래정지 카드":            true,
		"card reported lost": true,
	} {
		if got := IsHardDecline("", msg); got != want {
			t.Errorf("IsHardDecline(%q) = %v", msg, got)
		}
	}
}
