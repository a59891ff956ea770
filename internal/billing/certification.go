package billing

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// PrefixCertification is the id prefix of certifications.
const PrefixCertification = "cert_"

// CertificationStatus is a stored certification's state. Only completed
// verifications are stored: one that is not verified is refused, not kept.
type CertificationStatus string

const CertificationVerified CertificationStatus = "verified"

// Certification is an identity verification (본인인증) a PG completed for a
// merchant's end user, confirmed server-side and stored once per receipt.
//
// Identity is personal data: it is sealed at rest, never logged, never put
// in an error, and shown only to secret keys. PersonID lets a merchant tell
// that two certifications are the same person without seeing the CI.
type Certification struct {
	ID                string
	MerchantID        string
	Mode              Mode
	ProviderAccountID string
	Provider          string // "bootpay"
	ReceiptID         string // the PG's receipt id; unique per merchant and mode
	CustomerID        *string
	Status            CertificationStatus
	Identity          Identity
	// PersonID is derived by the store from a keyed hash of the CI, scoped
	// to the merchant and mode: stable for one person at one merchant,
	// useless for correlating people across merchants.
	PersonID     string
	Requirements CheckedRequirements
	VerifiedAt   time.Time
	CreatedAt    time.Time
}

// Identity is who a certification verified. Every way of printing it
// (fmt verbs, slog, JSON) shows "[redacted]"; code that stores or renders
// the identity reads the fields.
type Identity struct {
	Name      string
	Phone     string // as the PG reports it (digits)
	Birth     *Date
	Gender    *Gender
	Carrier   string
	Foreigner bool
	// CI (the per-person id shared by every site) and DI (per site) are
	// carried on the way in only: the store keeps their keyed hashes, never
	// the values.
	CI string
	DI string
}

const redacted = "[redacted]"

// String, GoString, Format, LogValue and MarshalJSON all redact, so no fmt
// verb, slog handler or JSON logger can show an identity.
func (Identity) String() string               { return "billing.Identity" + redacted }
func (i Identity) GoString() string           { return i.String() }
func (i Identity) Format(f fmt.State, _ rune) { _, _ = fmt.Fprint(f, i.String()) }
func (Identity) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (Identity) MarshalJSON() ([]byte, error) { return json.Marshal(redacted) }

// String shows a certification without its identity.
func (c Certification) String() string {
	return fmt.Sprintf("billing.Certification{%s %s %s}", c.ID, c.Mode, c.Status)
}

func (c Certification) GoString() string           { return c.String() }
func (c Certification) Format(f fmt.State, _ rune) { _, _ = fmt.Fprint(f, c.String()) }

// Requirements are what a merchant asks of a certification before billingd
// accepts it. Zero fields are not checked.
type Requirements struct {
	MinAge *int    `json:"min_age"`
	Phone  *string `json:"phone"`
	Name   *string `json:"name"`
}

// CheckedRequirements records which requirements a certification passed,
// without the compared values (a phone or a name is identity).
type CheckedRequirements struct {
	MinAge *int `json:"min_age"`
	Phone  bool `json:"phone"`
	Name   bool `json:"name"`
}

// MaxMinAge bounds require.min_age.
const MaxMinAge = 150

// Validate checks the requirements themselves, before any PG is asked.
func (r Requirements) Validate() error {
	if r.MinAge != nil && (*r.MinAge < 1 || *r.MinAge > MaxMinAge) {
		return Invalid("require.min_age", "require.min_age must be a whole number from 1 to %d", MaxMinAge)
	}
	if r.Phone != nil {
		if d := phoneDigits(*r.Phone); len(d) < 8 || len(d) > 15 || strings.IndexFunc(*r.Phone, invalidPhoneRune) >= 0 {
			return Invalid("require.phone", "require.phone must be a phone number (digits, dashes, spaces)")
		}
	}
	if r.Name != nil {
		n := strings.TrimSpace(*r.Name)
		if n == "" || utf8.RuneCountInString(n) > 100 || strings.IndexFunc(n, unicode.IsControl) >= 0 {
			return Invalid("require.name", "require.name must be 1 to 100 printable characters")
		}
	}
	return nil
}

func invalidPhoneRune(r rune) bool {
	return !(r >= '0' && r <= '9') && !strings.ContainsRune("+-() ", r)
}

// Check tests a verified identity against the requirements at now. A
// failure is an EInvalid "requirement_failed" error naming the requirement
// (param require.min_age, require.phone or require.name); its message never
// contains the identity.
func (r Requirements) Check(id Identity, now time.Time) (CheckedRequirements, error) {
	var checked CheckedRequirements
	fail := func(param, msg string) error {
		return &Error{Code: EInvalid, Reason: "requirement_failed", Param: param, Message: msg}
	}
	if r.MinAge != nil {
		if id.Birth == nil {
			return checked, fail("require.min_age", "the certificate carries no birth date, so require.min_age cannot be met")
		}
		if AgeOn(*id.Birth, now) < *r.MinAge {
			return checked, fail("require.min_age", fmt.Sprintf("the verified person is younger than %d (age in Asia/Seoul today)", *r.MinAge))
		}
		m := *r.MinAge
		checked.MinAge = &m
	}
	if r.Phone != nil {
		if id.Phone == "" || phoneDigits(id.Phone) != phoneDigits(*r.Phone) {
			return checked, fail("require.phone", "the verified phone number does not match require.phone")
		}
		checked.Phone = true
	}
	if r.Name != nil {
		if strings.TrimSpace(id.Name) != strings.TrimSpace(*r.Name) {
			return checked, fail("require.name", "the verified name does not match require.name")
		}
		checked.Name = true
	}
	return checked, nil
}

// phoneDigits keeps the digits of a phone number, so 010-1234-5678 and
// 01012345678 compare equal; an international +82 10… becomes 010….
func phoneDigits(s string) string {
	s = strings.TrimSpace(s)
	intl := strings.HasPrefix(s, "+")
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	if intl && strings.HasPrefix(d, "82") {
		d = "0" + d[2:]
	}
	return d
}

// seoul is Korea Standard Time. Korea has kept UTC+9 without daylight
// saving since 1988, so a fixed zone is exact for "now" and needs no tzdata
// in the container.
var seoul = time.FixedZone("KST", 9*60*60)

// AgeOn is the age in full years (만 나이) of someone born on birth, on the
// calendar day that now falls on in Asia/Seoul. Someone born on 29 February
// becomes a year older on 1 March in common years (민법 제160조).
func AgeOn(birth Date, now time.Time) int {
	y, m, d := now.In(seoul).Date()
	by, bm, bd := birth.Date()
	age := y - by
	if m < bm || (m == bm && d < bd) {
		age--
	}
	return age
}

// ParseCompactBirth parses a PG birth date written YYYYMMDD.
func ParseCompactBirth(s string) (*Date, bool) {
	t, err := time.Parse("20060102", s)
	if err != nil || t.Year() < 1900 {
		return nil, false
	}
	return &Date{t}, true
}

// Bootpay easy/password window (seed flow 1). It lives here, beside the
// other Bootpay identity flow, until the user token grows a file of its own.

// BootpayUserTokenMinRemaining is how much life a cached user token must
// have left to be handed out again.
const BootpayUserTokenMinRemaining = 5 * time.Minute

// BootpayEasyPGs are the PGs behind Bootpay's easy/password window.
var BootpayEasyPGs = []string{"payapp", "nicepay", "welcome"}

// BootpayEasyPG normalises a PG name for the easy window: lower case, and
// the old docs' "paypp" read as payapp. Any other PG is refused.
func BootpayEasyPG(param, pg string) (string, error) {
	p := strings.ToLower(strings.TrimSpace(pg))
	if p == "paypp" {
		p = "payapp"
	}
	for _, ok := range BootpayEasyPGs {
		if p == ok {
			return p, nil
		}
	}
	return "", Invalid(param, "%s must be one of %s for Bootpay's easy/password window", param, strings.Join(BootpayEasyPGs, ", "))
}

// BootpayUserToken is a user token Bootpay issued for one customer of one
// Bootpay account. The token opens the customer's password window, so it
// is a bearer credential: sealed at rest, never printed.
type BootpayUserToken struct {
	MerchantID        string
	Mode              Mode
	CustomerID        string
	ProviderAccountID string
	Token             string
	ExpiresAt         time.Time
	CreatedAt         time.Time
}

// Reusable reports whether the token may be handed out again at now.
func (t BootpayUserToken) Reusable(now time.Time) bool {
	return t.Token != "" && t.ExpiresAt.Sub(now) > BootpayUserTokenMinRemaining
}

func (t BootpayUserToken) String() string {
	return fmt.Sprintf("billing.BootpayUserToken{%s %s token:%s expires:%s}", t.CustomerID, t.ProviderAccountID, redacted, t.ExpiresAt.Format(time.RFC3339))
}
func (t BootpayUserToken) GoString() string           { return t.String() }
func (t BootpayUserToken) Format(f fmt.State, _ rune) { _, _ = fmt.Fprint(f, t.String()) }

// ReceiptUsed is the conflict of a receipt that already proved a
// certification: a receipt proves one verification once.
func ReceiptUsed(certificationID string) *Error {
	return &Error{Code: EConflict, Reason: "receipt_already_used", Param: "receipt_id",
		Message: fmt.Sprintf("this receipt_id was already verified as certification %s; a receipt proves one verification once", certificationID)}
}

// UnknownCustomer is the error of a request body naming, in param, a
// customer the merchant does not have in this mode.
func UnknownCustomer(param, id string) *Error {
	return &Error{Code: EInvalid, Reason: "resource_missing", Param: param, Message: fmt.Sprintf("no such customer: %q", id)}
}
