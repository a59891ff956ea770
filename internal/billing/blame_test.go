package billing

import (
	"testing"
	"time"
)

func TestOperatorFailuresKeepTheRetryCount(t *testing.T) {
	t.Parallel()
	at := time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC)
	for _, code := range []string{FailurePGAuth, FailurePGConfiguration, "not_found_at_pg", "schedule_not_found"} {
		if !IsOperatorFailure(code) {
			t.Errorf("%s is not an operator failure", code)
		}
	}
	for _, code := range []string{"", "-1", "51", "SUBSCRIBE_PAYMENT_FAILED", "schedule_failed"} {
		if IsOperatorFailure(code) {
			t.Errorf("%q is blamed on the operator", code)
		}
	}
	sub := Subscription{Status: SubscriptionPastDue, CurrentPeriod: 3, RetryCount: 2}
	next, typ := sub.PeriodFailedByOperator(3, at, DefaultDunning)
	if next.RetryCount != 2 || next.Status != SubscriptionPastDue || typ != EventSubscriptionUpdated ||
		!next.NextRetryAt.Equal(at.Add(DefaultDunning.RetryAfter[2])) {
		t.Fatalf("past due after an operator failure: %+v %s", next, typ)
	}
	if _, typ := (Subscription{Status: SubscriptionCanceled, CurrentPeriod: 3}).PeriodFailedByOperator(3, at, DefaultDunning); typ != "" {
		t.Fatal("a canceled subscription moved")
	}
	if !IsConfigurationRefusal("PG사 설정 정보가 없습니다") || IsConfigurationRefusal("잔액부족") {
		t.Fatal("configuration refusal marks")
	}
}

func TestKeyInactiveThenANewKey(t *testing.T) {
	t.Parallel()
	at := time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC)
	failed, typ := Subscription{Status: SubscriptionPastDue, RetryCount: 1, NextRetryAt: &at}.KeyInactive()
	if failed.Status != SubscriptionUnpaid || *failed.StatusReason != ReasonBillingKeyInactive || failed.NextRetryAt != nil || typ != EventSubscriptionUnpaid {
		t.Fatalf("key inactive: %+v %s", failed, typ)
	}
	if again := failed.WithNewKey(at); again.Status != SubscriptionPastDue || again.StatusReason != nil || !again.NextRetryAt.Equal(at) {
		t.Fatalf("with a new key: %+v", again)
	}
	renewing, _ := Subscription{Status: SubscriptionActive}.KeyInactive()
	if again := renewing.WithNewKey(at); again.Status != SubscriptionActive || again.NextRetryAt != nil {
		t.Fatalf("a renewal that found no key, with a new key: %+v", again)
	}
	exhausted, _ := Subscription{Status: SubscriptionPastDue, CurrentPeriod: 1, RetryCount: 3}.PeriodFailed(1, at, DefaultDunning, false)
	if exhausted.StatusReason == nil || *exhausted.StatusReason != ReasonRetriesExhausted || exhausted.WithNewKey(at).Status != SubscriptionUnpaid {
		t.Fatalf("exhausted: %+v", exhausted)
	}
}
