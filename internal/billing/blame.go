package billing

import (
	"strings"
	"time"
)

// Failure codes billingd records itself for failures that are not the
// customer's: the PG refused billingd's credentials, or refused the
// merchant's own configuration of the PG.
const (
	FailurePGAuth          = "pg_auth_failed"
	FailurePGConfiguration = "pg_configuration"
)

// operatorFailures are failure codes that say nothing about the customer's
// card: the operator (or the merchant's PG setup) has to act.
var operatorFailures = map[string]bool{
	FailurePGAuth: true, FailurePGConfiguration: true,
	"not_found_at_pg": true, "schedule_not_found": true,
}

// IsOperatorFailure reports whether a failed attempt's code says the
// failure was billingd's, the merchant's or the PG's, not the customer's.
// Dunning does not count it against the customer.
func IsOperatorFailure(code string) bool { return operatorFailures[code] }

// configurationMarks are PG refusal texts that blame the merchant's own PG
// setup (an unconfigured PG or method, a missing contract or permission).
var configurationMarks = []string{"설정", "계약", "권한", "not configured", "not allowed", "permission", "unsupported"}

// IsConfigurationRefusal reports whether a PG's refusal text blames the
// merchant's configuration rather than the card.
func IsConfigurationRefusal(message string) bool {
	text := strings.ToLower(message)
	for _, mark := range configurationMarks {
		if strings.Contains(text, mark) {
			return true
		}
	}
	return false
}

// PeriodFailedByOperator is the subscription after an attempt at period n
// failed for a reason that is not the customer's (IsOperatorFailure): the
// retry count stays, and the period is tried again after the wait the
// next retry would have had. It returns the event to write.
func (s Subscription) PeriodFailedByOperator(n int, at time.Time, d Dunning) (Subscription, string) {
	if n != s.CurrentPeriod || !s.Status.Live() {
		return s, ""
	}
	wait := time.Hour
	if len(d.RetryAfter) > 0 {
		wait = d.RetryAfter[min(s.RetryCount, len(d.RetryAfter)-1)]
	}
	next := at.Add(wait)
	wasActive := s.Status == SubscriptionActive
	s.Status, s.NextRetryAt = SubscriptionPastDue, &next
	if wasActive {
		return s, EventSubscriptionPastDue
	}
	return s, EventSubscriptionUpdated
}

// KeyInactive is the subscription once billingd found no active billing key
// to charge: unpaid, with reason billing_key_inactive, and no retries until
// a new key is set (WithNewKey). It returns the event to write.
func (s Subscription) KeyInactive() (Subscription, string) {
	if !s.Status.Live() {
		return s, ""
	}
	reason := ReasonBillingKeyInactive
	s.Status, s.StatusReason, s.NextRetryAt = SubscriptionUnpaid, &reason, nil
	return s, EventSubscriptionUnpaid
}

// WithNewKey is a subscription that was unpaid for want of an active key
// after one was set: past due and retried at once when its current period
// has failed attempts, else active again (the next period is billed by
// the renewal catch-up).
func (s Subscription) WithNewKey(at time.Time) Subscription {
	if s.Status != SubscriptionUnpaid || s.StatusReason == nil || *s.StatusReason != ReasonBillingKeyInactive {
		return s
	}
	s.StatusReason = nil
	if s.RetryCount == 0 {
		s.Status = SubscriptionActive
		return s
	}
	s.Status, s.NextRetryAt = SubscriptionPastDue, &at
	return s
}
