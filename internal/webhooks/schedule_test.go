package webhooks

import (
	"net/http"
	"testing"
	"time"
)

func TestSchedule(t *testing.T) {
	t.Parallel()
	s := DefaultSchedule
	if s.MaxAttempts() != 8 {
		t.Fatalf("MaxAttempts %d", s.MaxAttempts())
	}
	for _, tc := range []struct {
		attempt int
		want    time.Duration
	}{
		{0, 5 * time.Second}, {1, 5 * time.Second}, {2, 5 * time.Minute}, {3, 30 * time.Minute},
		{4, 2 * time.Hour}, {5, 5 * time.Hour}, {6, 10 * time.Hour}, {7, 10 * time.Hour}, {8, 10 * time.Hour},
	} {
		if got := s.Delay(tc.attempt); got != tc.want {
			t.Errorf("Delay(%d) = %s, want %s", tc.attempt, got, tc.want)
		}
	}
	if h := s.Horizon(); h < 27*time.Hour || h > 28*time.Hour {
		t.Fatalf("horizon %s", h)
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, header string
		want         time.Duration
	}{
		{"Absent", "", 0},
		{"Seconds", "120", 2 * time.Minute},
		{"Spaces", " 30 ", 30 * time.Second},
		{"Zero", "0", 0},
		{"Negative", "-5", 0},
		{"HTTPDate", now.Add(time.Hour).Format(http.TimeFormat), time.Hour},
		{"PastDate", now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"CappedSeconds", "9999999999", 24 * time.Hour},
		{"CappedDate", now.Add(30 * 24 * time.Hour).Format(http.TimeFormat), 24 * time.Hour},
		{"Garbage", "soon", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := RetryAfter(tc.header, now); got != tc.want {
				t.Fatalf("RetryAfter(%q) = %s, want %s", tc.header, got, tc.want)
			}
		})
	}
}

func TestSnippet(t *testing.T) {
	t.Parallel()
	long := make([]byte, 0, 1100)
	for len(long) < 1100 {
		long = append(long, "가"...) // 3 bytes: the cut lands mid-rune
	}
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"Long", long},
		{"Invalid", []byte{'o', 'k', 0xff, 0xfe}},
		{"NUL", []byte("a\x00b")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := snippet(tc.in)
			if len(s) > maxSnippet {
				t.Fatalf("%d bytes", len(s))
			}
			for _, r := range s {
				if r == 0 {
					t.Fatal("NUL kept")
				}
			}
		})
	}
}
