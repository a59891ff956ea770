package bootpay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// kst is Korea Standard Time. v1 timestamps carry no offset and are KST;
// a fixed zone avoids depending on the host's tzdata.
var kst = time.FixedZone("KST", 9*60*60)

const v1Layout = "2006-01-02 15:04:05"

// isNull reports whether a raw JSON value is absent or null.
func isNull(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) == 0 || string(b) == "null"
}

// amount is a KRW amount. Bootpay sends numbers (the official Go SDK even
// uses float64), so it is decoded through json.Number; an integral value
// written as 3000.0 is accepted, a fractional one is refused rather than
// truncated, because KRW has no minor unit and a truncated amount would
// silently disagree with what the PG charged.
type amount int64

func (a *amount) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		*a = 0
		return nil
	}
	s := string(bytes.Trim(bytes.TrimSpace(b), `"`))
	if s == "" {
		*a = 0
		return nil
	}
	n, err := parseAmount(json.Number(s))
	if err != nil {
		return err
	}
	*a = amount(n)
	return nil
}

// parseAmount converts a JSON number to int64 KRW, refusing fractions.
func parseAmount(n json.Number) (int64, error) {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return i, nil
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return 0, fmt.Errorf("amount %q is not a number", string(n))
	}
	if f != math.Trunc(f) || math.IsInf(f, 0) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("amount %q is not a whole number of KRW", string(n))
	}
	return int64(f), nil
}

// flexString accepts a JSON string or number (Bootpay's error_code is a
// string constant in practice but typed as a number in the Node SDK).
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		*s = ""
		return nil
	}
	b = bytes.TrimSpace(b)
	if b[0] == '"' {
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = flexString(v)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("expected a string or a number")
	}
	*s = flexString(n.String())
	return nil
}

// flexInt accepts a JSON number or a numeric string.
type flexInt int64

func (i *flexInt) UnmarshalJSON(b []byte) error {
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	if s == "" {
		*i = 0
		return nil
	}
	n, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(string(s), 64)
		if ferr != nil || f != math.Trunc(f) {
			return fmt.Errorf("expected an integer")
		}
		n = int64(f)
	}
	*i = flexInt(n)
	return nil
}

// flexBool accepts true/false, 0/1 and their string forms (v1 sends a bool
// for foreigner, v2 an int).
type flexBool bool

func (v *flexBool) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		*v = false
		return nil
	}
	s := strings.ToLower(string(bytes.Trim(bytes.TrimSpace(b), `"`)))
	switch s {
	case "true", "1", "y":
		*v = true
	case "false", "0", "n", "":
		*v = false
	default:
		return fmt.Errorf("expected a boolean")
	}
	return nil
}

// wireTime decodes both generations' timestamps: v2 ISO-8601 with an offset
// ("2024-05-27T15:53:47+09:00"), v1 "YYYY-MM-DD HH:MM:SS" in KST, v1
// "YYYY-MM-DD HH:MM:SS +0900", or unix seconds. Empty or null is the zero
// time (purchased_at and cancelled_at are optional).
type wireTime struct{ time.Time }

func (t *wireTime) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		t.Time = time.Time{}
		return nil
	}
	b = bytes.TrimSpace(b)
	if b[0] != '"' {
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("expected a time")
		}
		sec, err := n.Int64()
		if err != nil {
			return fmt.Errorf("expected unix seconds")
		}
		t.Time = time.Unix(sec, 0)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := parseWireTime(s)
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

func parseWireTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if v, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return v, nil
	}
	if v, err := time.Parse("2006-01-02 15:04:05 -0700", s); err == nil {
		return v, nil
	}
	if v, err := time.ParseInLocation(v1Layout, s, kst); err == nil {
		return v, nil
	}
	return time.Time{}, errors.New("unrecognised time format")
}

// formatV2Time renders a time the way v2 expects it: ISO-8601 in KST.
func formatV2Time(t time.Time) string {
	return t.In(kst).Format(time.RFC3339)
}

// normaliseBirth turns the birth formats Bootpay uses (YYYYMMDD, YYYY-MM-DD,
// an RFC 3339 date-time, or YYMMDD) into YYYYMMDD. Unknown shapes are
// returned unchanged rather than guessed.
func normaliseBirth(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.In(kst).Format("20060102")
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.Format("20060102")
	}
	return s
}
