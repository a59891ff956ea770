package iamport

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/billingd/billingd/internal/providers"
)

// issueRequest is the body of POST /subscribe/customers/{customer_uid}. It
// carries card data: it is marshalled straight into the request and never
// appears in an error or anywhere else.
type issueRequest struct {
	CardNumber    string `json:"card_number"`
	Expiry        string `json:"expiry"`
	Birth         string `json:"birth,omitempty"`
	Pwd2Digit     string `json:"pwd_2digit,omitempty"`
	PG            string `json:"pg,omitempty"`
	CustomerName  string `json:"customer_name,omitempty"`
	CustomerTel   string `json:"customer_tel,omitempty"`
	CustomerEmail string `json:"customer_email,omitempty"`
}

var (
	cardDigits = regexp.MustCompile(`^[0-9]{13,19}$`)
	cardExpiry = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])$`)
)

func customerPath(uid string) string { return "/subscribe/customers/" + url.PathEscape(uid) }

// VerifyBillingKey confirms a window-issued key with GET
// /subscribe/customers/{customer_uid}. ErrNotFound when Iamport has no such
// key: SPEC answers that with HTTP 404, live-API test suites see HTTP 200
// with a non-zero code (reference §11.1); both mean "no key".
func (c *Client) VerifyBillingKey(ctx context.Context, in providers.VerifyBillingKeyRequest) (providers.BillingKey, error) {
	const op = "verify billing key"
	if in.Key == "" {
		return providers.BillingKey{}, c.invalid(op, "customer_uid is required")
	}
	return c.customerCall(ctx, request{op: op, method: http.MethodGet, path: customerPath(in.Key), repeatable: true}, true)
}

// IssueBillingKey issues a key over REST with POST
// /subscribe/customers/{customer_uid}. PGs that issue keys only through the
// payment window (PAYCO, CHAI, KakaoPay, KICC) are refused with ErrRejected
// before anything is sent. A card the PG refuses (code -1, "카드정보 인증 …
// 실패") is ErrDeclined; other refusals are ErrRejected; transport trouble is
// ErrUnknown (the key may exist: VerifyBillingKey tells).
func (c *Client) IssueBillingKey(ctx context.Context, in providers.IssueBillingKeyRequest) (providers.BillingKey, error) {
	const op = "issue billing key"
	if capab, ok := providers.IamportPG(in.PG); ok && capab.Issuance != providers.IssueByREST {
		return providers.BillingKey{}, c.invalid(op, fmt.Sprintf("PG %q issues billing keys only through the payment window", in.PG))
	}
	switch {
	case in.Key == "":
		return providers.BillingKey{}, c.invalid(op, "customer_uid is required")
	case !cardDigits.MatchString(in.Card.Number):
		return providers.BillingKey{}, c.invalid(op, "card number must be 13 to 19 digits")
	case !cardExpiry.MatchString(in.Card.Expiry):
		return providers.BillingKey{}, c.invalid(op, "card expiry must be YYYY-MM")
	}
	number := dashed(in.Card.Number)
	req := request{op: op, method: http.MethodPost, path: customerPath(in.Key),
		// Repeating an issue only stores the same card under the same
		// customer_uid again.
		repeatable: true,
		secrets:    []string{in.Card.Number, number, in.Card.Birth},
		body: issueRequest{
			CardNumber: number, Expiry: in.Card.Expiry, Birth: in.Card.Birth, Pwd2Digit: in.Card.Password2,
			PG: in.PG, CustomerName: in.Buyer.Name, CustomerTel: in.Buyer.Phone, CustomerEmail: in.Buyer.Email,
		}}
	rep, err := c.call(ctx, req)
	if err != nil {
		return providers.BillingKey{}, err
	}
	if err := c.classify(req, rep); err != nil {
		pe, _ := providers.AsError(err)
		if rep.status == http.StatusOK && rep.code == -1 {
			pe.Kind = providers.ErrDeclined // the card itself was refused
		}
		return providers.BillingKey{}, pe
	}
	return c.billingKey(req, rep)
}

// DeleteBillingKey removes a key with DELETE
// /subscribe/customers/{customer_uid}. ErrNotFound when it is already gone
// (404 or 200 with a non-zero code, as for VerifyBillingKey). Pending
// schedules of the key are not revoked by this call; use Unschedule first.
func (c *Client) DeleteBillingKey(ctx context.Context, key string) error {
	const op = "delete billing key"
	if key == "" {
		return c.invalid(op, "customer_uid is required")
	}
	_, err := c.customerCall(ctx, request{op: op, method: http.MethodDelete, path: customerPath(key), repeatable: true}, false)
	return err
}

// customerCall runs a customers GET or DELETE; a refusal of either means the
// key does not exist.
func (c *Client) customerCall(ctx context.Context, req request, decode bool) (providers.BillingKey, error) {
	rep, err := c.call(ctx, req)
	if err != nil {
		return providers.BillingKey{}, err
	}
	if err := c.classify(req, rep); err != nil {
		pe, _ := providers.AsError(err)
		if rep.status == http.StatusOK && rep.enveloped {
			pe.Kind = providers.ErrNotFound
		}
		return providers.BillingKey{}, pe
	}
	if !decode {
		return providers.BillingKey{}, nil
	}
	return c.billingKey(req, rep)
}

func (c *Client) billingKey(req request, rep reply) (providers.BillingKey, error) {
	var w wireCustomer
	if err := c.decode(req, rep, &w); err != nil {
		return providers.BillingKey{}, err
	}
	k, err := w.billingKey()
	if err != nil {
		return providers.BillingKey{}, c.fail(req, providers.ErrUnknown, fmt.Errorf("decode billing key: %w", err))
	}
	return k, nil
}

// dashed formats a 16-digit card number as dddd-dddd-dddd-dddd, the form
// SPEC documents; other lengths are sent as digits.
func dashed(digits string) string {
	if len(digits) != 16 {
		return digits
	}
	var b strings.Builder
	for i := 0; i < 16; i += 4 {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(digits[i : i+4])
	}
	return b.String()
}
