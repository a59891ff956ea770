package billing

import (
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // subscriptions bill in the customer's zone, whatever the host ships
	"unicode/utf8"
)

// SubscriptionStatus is where a subscription is:
//
//	active ─charge failed─▶ past_due ─retry ok─▶ active
//	   │                        └─retries exhausted─▶ unpaid | canceled
//	   ├─pause─▶ paused ─resume─▶ active
//	   └─cancel (now | at period end)─▶ canceled
type SubscriptionStatus string

const (
	SubscriptionActive   SubscriptionStatus = "active"
	SubscriptionPastDue  SubscriptionStatus = "past_due"
	SubscriptionUnpaid   SubscriptionStatus = "unpaid"
	SubscriptionCanceled SubscriptionStatus = "canceled"
	SubscriptionPaused   SubscriptionStatus = "paused"
)

// SubscriptionStatuses lists every status, for validating filters.
var SubscriptionStatuses = []SubscriptionStatus{SubscriptionActive, SubscriptionPastDue, SubscriptionUnpaid,
	SubscriptionCanceled, SubscriptionPaused}

// Live reports whether the subscription still bills.
func (s SubscriptionStatus) Live() bool { return s == SubscriptionActive || s == SubscriptionPastDue }

// Interval units.
const (
	IntervalDay   = "day"
	IntervalWeek  = "week"
	IntervalMonth = "month"
	IntervalYear  = "year"
)

// DefaultTimezone is where Korean merchants' customers live.
const DefaultTimezone = "Asia/Seoul"

// Subscription bills a customer every interval, one payment per period.
type Subscription struct {
	ID            string             `json:"id"`
	MerchantID    string             `json:"-"`
	Mode          Mode               `json:"mode"`
	CustomerID    string             `json:"customer_id"`
	BillingKeyID  *string            `json:"billing_key_id"`
	Amount        int64              `json:"amount"`
	TaxFree       int64              `json:"tax_free"`
	OrderName     string             `json:"order_name"`
	Interval      string             `json:"interval"`
	IntervalCount int                `json:"interval_count"`
	Anchor        time.Time          `json:"anchor"`
	Timezone      string             `json:"timezone"`
	Status        SubscriptionStatus `json:"status"`
	// CurrentPeriod is the index of the period most recently billed; -1
	// before the first.
	CurrentPeriod      int            `json:"current_period"`
	CancelAtPeriodEnd  bool           `json:"cancel_at_period_end"`
	RetryCount         int            `json:"retry_count"`
	NextRetryAt        *time.Time     `json:"next_retry_at"`
	Metadata           map[string]any `json:"metadata"`
	CanceledAt         *time.Time     `json:"canceled_at"`
	PausedAt           *time.Time     `json:"paused_at"`
	CurrentPeriodStart *time.Time     `json:"current_period_start"`
	CurrentPeriodEnd   *time.Time     `json:"current_period_end"`
	CreatedAt          time.Time      `json:"created_at"`
	UpdatedAt          time.Time      `json:"updated_at"`
	// StatusReason says why an unpaid (or canceled) subscription stopped
	// billing: one of the Reason* values, or nil.
	StatusReason *string `json:"status_reason"`
	// PGSchedule is what is still registered at the PG (read-only).
	PGSchedule PGSchedule `json:"pg_schedule"`
}

// PeriodStart is when period n begins. Periods count from the anchor in the
// subscription's time zone; months and years keep the anchor's day, clamped
// to the month's last day (Jan 31 → Feb 28/29 → Mar 31), so a short month
// never shifts the calendar.
func (s Subscription) PeriodStart(n int) time.Time {
	loc, err := time.LoadLocation(s.Timezone)
	if err != nil {
		loc = time.UTC // Validate refused bad zones; stored ones load
	}
	a := s.Anchor.In(loc)
	switch s.Interval {
	case IntervalDay:
		return a.AddDate(0, 0, n*s.IntervalCount)
	case IntervalWeek:
		return a.AddDate(0, 0, 7*n*s.IntervalCount)
	}
	months := n * s.IntervalCount
	if s.Interval == IntervalYear {
		months *= 12
	}
	y, m, d := a.Date()
	first := time.Date(y, m+time.Month(months), 1, a.Hour(), a.Minute(), a.Second(), a.Nanosecond(), loc)
	if last := daysIn(first); d > last {
		d = last
	}
	return first.AddDate(0, 0, d-1)
}

func daysIn(firstOfMonth time.Time) int {
	return firstOfMonth.AddDate(0, 1, -1).Day()
}

// PeriodAt is the index of the period containing t (-1 before the anchor).
func (s Subscription) PeriodAt(t time.Time) int {
	if t.Before(s.Anchor) {
		return -1
	}
	// Periods are at most a year long and at least a day: a short search
	// from an estimate is exact and cheap.
	n := 0
	for !s.PeriodStart(n + 1).After(t) {
		n++
	}
	return n
}

// EnterPeriod makes period n the current one.
func (s Subscription) EnterPeriod(n int) Subscription {
	start, end := s.PeriodStart(n), s.PeriodStart(n+1)
	s.CurrentPeriod, s.CurrentPeriodStart, s.CurrentPeriodEnd = n, &start, &end
	return s
}

// PeriodPaid is the subscription after period n's payment was paid, and
// the event that records it ("" when nothing changed). A retry that pays
// the current period makes a past-due (or unpaid) subscription active
// again; the period calendar never moves.
func (s Subscription) PeriodPaid(n int) (Subscription, string) {
	if n != s.CurrentPeriod {
		return s, "" // an old period settling late changes nothing
	}
	switch s.Status {
	case SubscriptionActive:
		if n == 0 {
			return s, "" // subscription.created already said it
		}
		return s, EventSubscriptionRenewed
	case SubscriptionPastDue, SubscriptionUnpaid:
		s.Status, s.RetryCount, s.NextRetryAt, s.StatusReason = SubscriptionActive, 0, nil, nil
		return s, EventSubscriptionRenewed
	}
	return s, "" // paused or canceled: the money is recorded on the payment
}

// PeriodFailed is the subscription after an attempt at period n failed at
// at, under the merchant's dunning policy; hard declines (a lost card, a
// closed account) get no retries. It returns the event to write ("" when
// nothing changed).
func (s Subscription) PeriodFailed(n int, at time.Time, d Dunning, hard bool) (Subscription, string) {
	if n != s.CurrentPeriod || !s.Status.Live() {
		return s, ""
	}
	wasActive := s.Status == SubscriptionActive
	s.RetryCount++
	if !hard && s.RetryCount <= len(d.RetryAfter) {
		next := at.Add(d.RetryAfter[s.RetryCount-1])
		s.Status, s.NextRetryAt = SubscriptionPastDue, &next
		if wasActive {
			return s, EventSubscriptionPastDue
		}
		return s, EventSubscriptionUpdated
	}
	s.NextRetryAt = nil
	s.Status = d.OnExhausted
	reason := ReasonRetriesExhausted
	if hard {
		reason = ReasonHardDecline
	}
	s.StatusReason = &reason
	if s.Status == SubscriptionCanceled {
		s.CanceledAt = &at
		return s, EventSubscriptionCanceled
	}
	return s, EventSubscriptionUnpaid
}

// SubscriptionInput creates a subscription.
type SubscriptionInput struct {
	CustomerID    string         `json:"customer_id"`
	BillingKeyID  string         `json:"billing_key_id"`
	Amount        int64          `json:"amount"`
	TaxFree       int64          `json:"tax_free"`
	OrderName     string         `json:"order_name"`
	Interval      string         `json:"interval"`
	IntervalCount int            `json:"interval_count"`
	Start         string         `json:"start"` // "now" (default) or an RFC 3339 time
	Timezone      string         `json:"timezone"`
	Metadata      map[string]any `json:"metadata"`
}

// MaxSubscriptionAmount bounds one period's charge (KRW).
const MaxSubscriptionAmount = 1_000_000_000

// Validate checks the input and returns the anchor.
func (in *SubscriptionInput) Validate(now time.Time) (time.Time, error) {
	if in.Timezone == "" {
		in.Timezone = DefaultTimezone
	}
	if in.IntervalCount == 0 {
		in.IntervalCount = 1
	}
	in.OrderName = strings.TrimSpace(in.OrderName)
	switch {
	case in.Amount <= 0 || in.Amount > MaxSubscriptionAmount:
		return time.Time{}, Invalid("amount", "amount must be a whole number of KRW from 1 to %d", MaxSubscriptionAmount)
	case in.TaxFree < 0 || in.TaxFree > in.Amount:
		return time.Time{}, Invalid("tax_free", "tax_free must be from 0 to amount")
	case in.OrderName == "" || utf8.RuneCountInString(in.OrderName) > 100:
		return time.Time{}, Invalid("order_name", "order_name must be 1 to 100 characters")
	case in.Interval != IntervalDay && in.Interval != IntervalWeek && in.Interval != IntervalMonth && in.Interval != IntervalYear:
		return time.Time{}, Invalid("interval", "interval must be day, week, month or year")
	case in.IntervalCount < 1 || in.IntervalCount > maxIntervalCount[in.Interval]:
		return time.Time{}, Invalid("interval_count", "interval_count must be from 1 to %d for %s", maxIntervalCount[in.Interval], in.Interval)
	}
	if _, err := time.LoadLocation(in.Timezone); err != nil || in.Timezone == "Local" {
		return time.Time{}, Invalid("timezone", "timezone must be an IANA zone such as Asia/Seoul")
	}
	if in.Metadata != nil {
		if err := ValidateMetadata(in.Metadata); err != nil {
			return time.Time{}, err
		}
	}
	if in.Start == "" || in.Start == "now" {
		return now, nil
	}
	start, err := time.Parse(time.RFC3339, in.Start)
	if err != nil {
		return time.Time{}, Invalid("start", `start must be "now" or an RFC 3339 time`)
	}
	if start.Before(now.Add(-time.Minute)) {
		return time.Time{}, Invalid("start", "start must not be in the past")
	}
	return start, nil
}

// maxIntervalCount keeps every period within a year.
var maxIntervalCount = map[string]int{IntervalDay: 365, IntervalWeek: 52, IntervalMonth: 12, IntervalYear: 1}

// Dunning is a merchant's policy for failed renewals.
type Dunning struct {
	// RetryAfter lists the waits before each retry, counted from the
	// failure before it.
	RetryAfter []time.Duration
	// OnExhausted is what a subscription becomes when retries run out:
	// unpaid (kept, stops billing) or canceled.
	OnExhausted SubscriptionStatus
}

// DefaultDunning retries after 1, 3 and 5 days, then marks the
// subscription unpaid.
var DefaultDunning = Dunning{
	RetryAfter:  []time.Duration{24 * time.Hour, 72 * time.Hour, 120 * time.Hour},
	OnExhausted: SubscriptionUnpaid,
}

// DunningFrom reads a merchant's settings.dunning ({"retry_after":
// ["24h", …], "on_exhausted": "unpaid"|"canceled"}), falling back to the
// default for what is missing.
func DunningFrom(settings map[string]any) Dunning {
	d := DefaultDunning
	raw, ok := settings["dunning"].(map[string]any)
	if !ok {
		return d
	}
	if list, ok := raw["retry_after"].([]any); ok {
		var waits []time.Duration
		for _, item := range list {
			s, _ := item.(string)
			if w, err := time.ParseDuration(s); err == nil && w > 0 {
				waits = append(waits, w)
			}
		}
		d.RetryAfter = waits
	}
	if s, _ := raw["on_exhausted"].(string); s == string(SubscriptionCanceled) {
		d.OnExhausted = SubscriptionCanceled
	}
	return d
}

// ValidateMerchantSettings checks settings an operator sets on a merchant.
func ValidateMerchantSettings(settings map[string]any) error {
	for k, v := range settings {
		if k != "dunning" {
			return Invalid("settings."+k, "unknown merchant setting %q", k)
		}
		raw, ok := v.(map[string]any)
		if !ok {
			return Invalid("settings.dunning", "dunning must be an object")
		}
		for dk, dv := range raw {
			switch dk {
			case "retry_after":
				list, ok := dv.([]any)
				if !ok || len(list) > 10 {
					return Invalid("settings.dunning.retry_after", "retry_after must be a list of at most 10 durations such as \"24h\"")
				}
				for _, item := range list {
					s, _ := item.(string)
					if w, err := time.ParseDuration(s); err != nil || w < time.Minute || w > 60*24*time.Hour {
						return Invalid("settings.dunning.retry_after", "retry_after entries must be durations from 1m to 1440h, such as \"24h\"")
					}
				}
			case "on_exhausted":
				if dv != string(SubscriptionUnpaid) && dv != string(SubscriptionCanceled) {
					return Invalid("settings.dunning.on_exhausted", `on_exhausted must be "unpaid" or "canceled"`)
				}
			default:
				return Invalid("settings.dunning."+dk, "unknown dunning setting %q", dk)
			}
		}
	}
	return nil
}

// Subscription events.
const (
	EventSubscriptionCreated  = "subscription.created"
	EventSubscriptionRenewed  = "subscription.renewed"
	EventSubscriptionPastDue  = "subscription.past_due"
	EventSubscriptionUnpaid   = "subscription.unpaid"
	EventSubscriptionCanceled = "subscription.canceled"
	EventSubscriptionUpdated  = "subscription.updated"
	EventSubscriptionPaused   = "subscription.paused"
	EventSubscriptionResumed  = "subscription.resumed"
	EventPaymentScheduled     = "payment.scheduled"
	EventPaymentCanceled      = "payment.canceled"
)

// String names a subscription for logs.
func (s Subscription) String() string { return fmt.Sprintf("Subscription{%s %s}", s.ID, s.Status) }

// hardDeclineMarks are PG decline texts that mean retrying is pointless:
// the card is lost, stolen, closed or suspended. PGs pass the issuer's
// Korean text through; a plain decline (잔액부족, limit exceeded) is soft.
var hardDeclineMarks = []string{"분실", "도난", "해지", "정지", "폐기", "lost", "stolen", "closed"}

// IsHardDecline reports whether a decline should not be retried.
func IsHardDecline(code, message string) bool {
	text := strings.ToLower(code + " " + message)
	for _, mark := range hardDeclineMarks {
		if strings.Contains(text, mark) {
			return true
		}
	}
	return false
}
