package billing

import (
	"encoding/json"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Customer is a merchant's customer. Every field but the id is optional:
// PGs ask for different buyer data, and billingd passes on what it has.
type Customer struct {
	ID         string
	MerchantID string
	Mode       Mode
	ExternalID *string // the merchant's own id; unique per merchant and mode
	Name       *string
	Email      *string
	Phone      *string // digits only, e.g. 01012345678
	Birth      *Date
	Gender     *Gender
	Metadata   map[string]any
	VerifiedAt *time.Time // when a certification (본인인증) was last linked; set by the store only
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Gender as PGs take it.
type Gender string

const (
	GenderMale   Gender = "male"
	GenderFemale Gender = "female"
)

// Date is a calendar date without a time zone (a birth date).
type Date struct{ time.Time }

// ParseDate parses YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	return Date{t}, err
}

func (d Date) String() string { return d.Format(time.DateOnly) }

// Limits on customer input, so one row cannot grow without bound.
const (
	MaxMetadataKeys  = 50
	MaxMetadataBytes = 8 << 10
)

// CustomerInput carries a create or an update. On create, absent and null
// mean the same; on update, absent leaves a field alone and null clears it.
type CustomerInput struct {
	ExternalID Field[string]         `json:"external_id"`
	Name       Field[string]         `json:"name"`
	Email      Field[string]         `json:"email"`
	Phone      Field[string]         `json:"phone"`
	Birth      Field[string]         `json:"birth"`
	Gender     Field[string]         `json:"gender"`
	Metadata   Field[map[string]any] `json:"metadata"`
}

// Apply validates in and writes it onto c. It changes nothing when it fails.
func (in CustomerInput) Apply(c *Customer) error {
	next := *c
	var err error
	if next.ExternalID, err = text(in.ExternalID, next.ExternalID, "external_id", 255, nil); err != nil {
		return err
	}
	if next.Name, err = text(in.Name, next.Name, "name", 100, nil); err != nil {
		return err
	}
	if next.Email, err = text(in.Email, next.Email, "email", 254, normaliseEmail); err != nil {
		return err
	}
	if next.Phone, err = text(in.Phone, next.Phone, "phone", 20, normalisePhone); err != nil {
		return err
	}
	if in.Birth.Present {
		next.Birth = nil
		if b := in.Birth.Ptr(); b != nil {
			d, err := ParseDate(*b)
			if err != nil || d.Year() < 1900 || d.After(time.Now()) {
				return Invalid("birth", "birth must be a past date written YYYY-MM-DD")
			}
			next.Birth = &d
		}
	}
	if in.Gender.Present {
		next.Gender = nil
		if g := in.Gender.Ptr(); g != nil {
			if *g != string(GenderMale) && *g != string(GenderFemale) {
				return Invalid("gender", `gender must be "male" or "female"`)
			}
			gender := Gender(*g)
			next.Gender = &gender
		}
	}
	if in.Metadata.Present {
		next.Metadata = map[string]any{}
		if m := in.Metadata.Ptr(); m != nil {
			if err := ValidateMetadata(*m); err != nil {
				return err
			}
			next.Metadata = *m
		}
	}
	*c = next
	return nil
}

// text validates one optional text field: trimmed, non-empty, at most max
// characters, no control characters, then normalised.
func text(f Field[string], old *string, param string, max int, normalise func(string) (string, bool)) (*string, error) {
	if !f.Present {
		return old, nil
	}
	if f.Null {
		return nil, nil
	}
	s := strings.TrimSpace(f.Value)
	if s == "" || utf8.RuneCountInString(s) > max || strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return nil, Invalid(param, "%s must be 1 to %d printable characters, or null", param, max)
	}
	if normalise != nil {
		n, ok := normalise(s)
		if !ok {
			return nil, Invalid(param, "%s is not a valid %s", param, param)
		}
		s = n
	}
	return &s, nil
}

func normaliseEmail(s string) (string, bool) {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@'):], ".") {
		return "", false
	}
	return s, true
}

// normalisePhone keeps digits only: PGs want 01012345678, people write
// 010-1234-5678. A leading + (international form) is kept.
func normalisePhone(s string) (string, bool) {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == '-' || r == ' ' || r == '(' || r == ')':
		default:
			return "", false
		}
	}
	digits := strings.TrimPrefix(b.String(), "+")
	return b.String(), len(digits) >= 8 && len(digits) <= 15
}

// ValidateMetadata bounds a metadata object: at most MaxMetadataKeys keys of
// at most 40 characters, MaxMetadataBytes encoded.
func ValidateMetadata(m map[string]any) error {
	if len(m) > MaxMetadataKeys {
		return Invalid("metadata", "metadata may hold at most %d keys", MaxMetadataKeys)
	}
	for k := range m {
		if k == "" || utf8.RuneCountInString(k) > 40 {
			return Invalid("metadata", "metadata keys must be 1 to 40 characters")
		}
	}
	b, err := json.Marshal(m)
	if err != nil || len(b) > MaxMetadataBytes {
		return Invalid("metadata", "metadata must encode to at most %d bytes", MaxMetadataBytes)
	}
	return nil
}
