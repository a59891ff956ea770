package bootpay

import (
	"encoding/json"
	"testing"
	"time"
)

func TestAmountDecoding(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{`1000`, 1000, true},
		{`1000.0`, 1000, true},
		{`"2500"`, 2500, true},
		{`null`, 0, true},
		{`0`, 0, true},
		{`1000.5`, 0, false},
		{`1e20`, 0, false},
		{`"abc"`, 0, false},
	}
	for _, tc := range cases {
		var a amount
		err := json.Unmarshal([]byte(tc.in), &a)
		if (err == nil) != tc.ok || (tc.ok && int64(a) != tc.want) {
			t.Errorf("amount(%s) = %d, %v; want %d ok=%v", tc.in, a, err, tc.want, tc.ok)
		}
	}
}

func TestTimeDecoding(t *testing.T) {
	t.Parallel()
	want := time.Date(2024, 5, 27, 15, 53, 47, 0, kst)
	for _, in := range []string{`"2024-05-27T15:53:47+09:00"`, `"2024-05-27 15:53:47"`, `"2024-05-27 15:53:47 +0900"`,
		`"2024-05-27T06:53:47Z"`, `1716792827`} {
		var w wireTime
		if err := json.Unmarshal([]byte(in), &w); err != nil || !w.Equal(want) {
			t.Errorf("time(%s) = %v, %v; want %v", in, w.Time, err, want)
		}
	}
	for _, in := range []string{`null`, `""`} {
		var w wireTime
		if err := json.Unmarshal([]byte(in), &w); err != nil || !w.IsZero() {
			t.Errorf("time(%s) = %v, %v; want zero", in, w.Time, err)
		}
	}
	if got := formatV2Time(want.UTC()); got != "2024-05-27T15:53:47+09:00" {
		t.Errorf("formatV2Time = %s", got)
	}
}

func TestBirthNormalised(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"19900104": "19900104", "1990-01-04": "19900104",
		"1990-01-04T00:00:00+09:00": "19900104", "1990-01-03T15:00:00Z": "19900104", "": ""} {
		if got := normaliseBirth(in); got != want {
			t.Errorf("normaliseBirth(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTokenReuseWindow(t *testing.T) {
	t.Parallel()
	for lifetime, want := range map[time.Duration]time.Duration{
		0: 25 * time.Minute, 30 * time.Minute: 25 * time.Minute, 2 * time.Hour: 25 * time.Minute,
		10 * time.Minute: 5 * time.Minute, time.Minute: 30 * time.Second,
	} {
		if got := reuseFor(lifetime); got != want {
			t.Errorf("reuseFor(%v) = %v, want %v", lifetime, got, want)
		}
	}
}
