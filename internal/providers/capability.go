package providers

import "strings"

// Issuance says how a PG issues billing keys.
type Issuance int

const (
	// IssueByWindow: only through the PG's payment window with a billing key
	// alias (IMP.request_pay with customer_uid); billingd confirms afterwards.
	IssueByWindow Issuance = iota + 1
	// IssueByREST: billingd can also send card data over REST.
	IssueByREST
)

// Capability describes what one PG behind a provider supports.
type Capability struct {
	Issuance Issuance
	// PayMethod is the pay_method the window must be opened with.
	PayMethod string
	// RedirectRequired: the window always redirects, so m_redirect_url is required.
	RedirectRequired bool
	// Schedule: the PG can run scheduled payments with an existing key.
	Schedule bool
}

// iamportPGs is the capability table for PGs reached through Iamport
// (reference/iamport.md §9.2–9.5).
var iamportPGs = map[string]Capability{
	"payco":        {Issuance: IssueByWindow, PayMethod: "card", Schedule: true},
	"chai":         {Issuance: IssueByWindow, PayMethod: "trans", RedirectRequired: true, Schedule: true},
	"kakaopay":     {Issuance: IssueByWindow, PayMethod: "card", Schedule: true},
	"kicc":         {Issuance: IssueByWindow, PayMethod: "card", Schedule: true},
	"nice":         {Issuance: IssueByREST, PayMethod: "card", Schedule: true},
	"kcp":          {Issuance: IssueByREST, PayMethod: "card", Schedule: true},
	"html5_inicis": {Issuance: IssueByREST, PayMethod: "card", Schedule: true},
	"tosspayments": {Issuance: IssueByREST, PayMethod: "card", Schedule: true},
	"daou":         {Issuance: IssueByREST, PayMethod: "card", Schedule: true},
	"ksnet":        {Issuance: IssueByREST, PayMethod: "card", Schedule: true},
	"nice_v2":      {Issuance: IssueByREST, PayMethod: "card", Schedule: true},
	"welcome":      {Issuance: IssueByREST, PayMethod: "card", Schedule: true},
}

// IamportPG returns the capability of an Iamport PG. pg may carry a MID
// suffix ("nice.MID1", "chai.{public_key}"); only the code before the first
// dot counts.
func IamportPG(pg string) (Capability, bool) {
	code, _, _ := strings.Cut(pg, ".")
	c, ok := iamportPGs[code]
	return c, ok
}
