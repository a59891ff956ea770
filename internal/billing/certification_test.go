package billing_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/billingd/billingd/internal/billing"
)

func date(t testing.TB, s string) billing.Date {
	t.Helper()
	d, err := billing.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestAgeOn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		birth string
		now   string // RFC 3339
		want  int
	}{
		{"DayBeforeBirthday", "2007-03-02", "2026-03-01T12:00:00+09:00", 18},
		{"OnBirthday", "2007-03-02", "2026-03-02T00:00:00+09:00", 19},
		// 15:30 UTC on 1 March is already 2 March in Seoul.
		{"BirthdayInSeoulNotYetInUTC", "2007-03-02", "2026-03-01T15:30:00Z", 19},
		{"StillTheDayBeforeInSeoul", "2007-03-02", "2026-03-01T14:59:59Z", 18},
		{"LeapDayBirthCommonYearFeb28", "2008-02-29", "2026-02-28T12:00:00+09:00", 17},
		{"LeapDayBirthCommonYearMar1", "2008-02-29", "2026-03-01T00:00:00+09:00", 18},
		{"LeapDayBirthLeapYear", "2008-02-29", "2028-02-29T00:00:00+09:00", 20},
		{"Newborn", "2026-03-01", "2026-03-01T10:00:00+09:00", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now, err := time.Parse(time.RFC3339, tt.now)
			if err != nil {
				t.Fatal(err)
			}
			if got := billing.AgeOn(date(t, tt.birth), now); got != tt.want {
				t.Fatalf("AgeOn(%s, %s) = %d, want %d", tt.birth, tt.now, got, tt.want)
			}
		})
	}
}

func TestRequirements(t *testing.T) {
	t.Parallel()
	birth := date(t, "2007-03-02")
	male := billing.GenderMale
	id := billing.Identity{Name: "김민준", Phone: "01098765432", Birth: &birth, Gender: &male, CI: "ci-value"}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // 18:00 in Seoul, the 19th birthday
	ptr := func(v int) *int { return &v }
	str := func(s string) *string { return &s }
	tests := []struct {
		name      string
		req       billing.Requirements
		id        billing.Identity
		param     string // "" passes
		validates string // "" means Validate passes
	}{
		{name: "None", req: billing.Requirements{}, id: id},
		{name: "MinAgeMet", req: billing.Requirements{MinAge: ptr(19)}, id: id},
		{name: "MinAgeNotMet", req: billing.Requirements{MinAge: ptr(20)}, id: id, param: "require.min_age"},
		{name: "MinAgeNoBirth", req: billing.Requirements{MinAge: ptr(1)}, id: billing.Identity{Name: "x"}, param: "require.min_age"},
		{name: "PhoneWithDashes", req: billing.Requirements{Phone: str("010-9876-5432")}, id: id},
		{name: "PhoneInternational", req: billing.Requirements{Phone: str("+82 10 9876 5432")}, id: id},
		{name: "PhoneDiffers", req: billing.Requirements{Phone: str("01011112222")}, id: id, param: "require.phone"},
		{name: "PhoneMissingOnCertificate", req: billing.Requirements{Phone: str("01011112222")}, id: billing.Identity{Name: "x"}, param: "require.phone"},
		{name: "NameTrimmed", req: billing.Requirements{Name: str("  김민준 ")}, id: id},
		{name: "NameDiffers", req: billing.Requirements{Name: str("김민수")}, id: id, param: "require.name"},
		{name: "All", req: billing.Requirements{MinAge: ptr(19), Phone: str("01098765432"), Name: str("김민준")}, id: id},
		{name: "MinAgeZero", req: billing.Requirements{MinAge: ptr(0)}, validates: "require.min_age"},
		{name: "MinAgeHuge", req: billing.Requirements{MinAge: ptr(151)}, validates: "require.min_age"},
		{name: "PhoneLetters", req: billing.Requirements{Phone: str("call me")}, validates: "require.phone"},
		{name: "PhoneShort", req: billing.Requirements{Phone: str("0101")}, validates: "require.phone"},
		{name: "NameBlank", req: billing.Requirements{Name: str("   ")}, validates: "require.name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := tt.req.Validate(); tt.validates != "" {
				requireParam(t, err, billing.EInvalid, tt.validates)
				return
			} else if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			checked, err := tt.req.Check(tt.id, now)
			if tt.param == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				if (tt.req.MinAge != nil) != (checked.MinAge != nil) || (tt.req.Phone != nil) != checked.Phone || (tt.req.Name != nil) != checked.Name {
					t.Fatalf("checked %+v does not record %+v", checked, tt.req)
				}
				return
			}
			requireParam(t, err, billing.EInvalid, tt.param)
			if e := err.(*billing.Error); e.Reason != "requirement_failed" {
				t.Fatalf("reason %q", e.Reason)
			}
			for _, secret := range []string{"김민준", "01098765432", "2007"} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error %q shows identity", err)
				}
			}
		})
	}
}

func requireParam(t testing.TB, err error, code billing.Code, param string) {
	t.Helper()
	be, ok := err.(*billing.Error)
	if !ok || be.Code != code || be.Param != param {
		t.Fatalf("error %v, want %s on %s", err, code, param)
	}
}

func TestBootpayEasyPG(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"payapp", "payapp"}, {"paypp", "payapp"}, {" NicePay ", "nicepay"}, {"welcome", "welcome"},
		{"kcp", ""}, {"danal", ""}, {"", ""},
	}
	for _, tt := range tests {
		got, err := billing.BootpayEasyPG("pg", tt.in)
		if tt.want == "" {
			requireParam(t, err, billing.EInvalid, "pg")
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("BootpayEasyPG(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestBootpayUserTokenReusable(t *testing.T) {
	t.Parallel()
	now := time.Now()
	for _, tt := range []struct {
		left time.Duration
		want bool
	}{{time.Hour, true}, {5*time.Minute + time.Second, true}, {5 * time.Minute, false}, {time.Minute, false}, {-time.Minute, false}} {
		tok := billing.BootpayUserToken{Token: "t0k3n", ExpiresAt: now.Add(tt.left)}
		if got := tok.Reusable(now); got != tt.want {
			t.Errorf("%v left: Reusable = %v, want %v", tt.left, got, tt.want)
		}
		if strings.Contains(fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, tok), "t0k3n") {
			t.Fatal("a user token prints its token")
		}
	}
}

// TestIdentityIsRedacted: however a certification or its identity is
// printed or logged, the identity does not show.
func TestIdentityIsRedacted(t *testing.T) {
	t.Parallel()
	birth := date(t, "1992-03-17")
	c := billing.Certification{ID: "cert_x", Identity: billing.Identity{Name: "김민준", Phone: "01098765432", Birth: &birth,
		Carrier: "SKT", CI: "CI-SECRET-VALUE", DI: "DI-SECRET-VALUE"}}
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "cert", c, "identity", c.Identity)
	js, _ := json.Marshal(c.Identity)
	outputs := []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s %q", c, c, c, c, c), fmt.Sprint(&c),
		fmt.Sprintf("%+v %#v", c.Identity, []billing.Identity{c.Identity}), logged.String(), string(js)}
	for _, out := range outputs {
		for _, secret := range []string{"김민준", "01098765432", "1992", "CI-SECRET", "DI-SECRET", "SKT"} {
			if strings.Contains(out, secret) {
				t.Fatalf("%q shows %q", out, secret)
			}
		}
	}
}
