package webhooks

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Schedule is the delay before each retry: Schedule[n-1] follows the n-th
// failed attempt. It is data, so tests run it in milliseconds and an
// operator can read it in one line.
type Schedule []time.Duration

// DefaultSchedule retries for about 28 hours: 5 s, 5 m, 30 m, 2 h, 5 h,
// 10 h, 10 h — the Standard Webhooks example, which outlasts a receiver's
// bad deploy or a long weekend night.
var DefaultSchedule = Schedule{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// MaxAttempts is the first attempt plus one per step.
func (s Schedule) MaxAttempts() int { return len(s) + 1 }

// Delay is the wait after failed attempt n (from 1); past the end, the
// last step.
func (s Schedule) Delay(n int) time.Duration {
	if len(s) == 0 {
		return time.Minute
	}
	return s[min(max(n, 1), len(s))-1]
}

// Horizon is how long a delivery can stay pending: the sum of the steps.
func (s Schedule) Horizon() time.Duration {
	var total time.Duration
	for _, d := range s {
		total += d
	}
	return total
}

// maxRetryAfter caps what a receiver may ask for: a Retry-After of a week
// would otherwise park a delivery past its event's retention.
const maxRetryAfter = 24 * time.Hour

// RetryAfter parses a Retry-After header, in seconds or as an HTTP date,
// into a delay from now (capped at a day); 0 when absent or unreadable.
func RetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		d = time.Duration(min(secs, int64(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}
