package portone

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"

	"github.com/billingd/billingd/internal/providers"
)

// ErrForeignBillingKey is in the chain of a VerifyBillingKey refusal for a
// key that PortOne holds but that was issued for another registration,
// customer or store: someone handed billingd a billing key string that is
// not theirs.
var ErrForeignBillingKey = errors.New("billing key was issued for another registration")

var (
	cardDigits = regexp.MustCompile(`^[0-9]{13,19}$`)
	cardExpiry = regexp.MustCompile(`^[0-9]{2}([0-9]{2})-(0[1-9]|1[0-2])$`)
)

func billingKeyPath(key string) string { return "/billing-keys/" + url.PathEscape(key) }

// VerifyBillingKey reads a window-issued key with GET
// /billing-keys/{billingKey} and accepts it only when it is ISSUED and,
// for each of IssueID, CustomerID and the configured store that is set,
// was issued for exactly that. A key PortOne does not know is ErrNotFound;
// a deleted one, or one issued for someone else, is ErrRejected (the
// latter with ErrForeignBillingKey in its chain). The returned key always
// carries the issueId, customer id and storeId PortOne reported.
func (c *Client) VerifyBillingKey(ctx context.Context, in providers.VerifyBillingKeyRequest) (providers.BillingKey, error) {
	const op = "verify billing key"
	if in.Key == "" {
		return providers.BillingKey{}, c.invalid(op, "billing key is required")
	}
	req := request{op: op, method: http.MethodGet, path: billingKeyPath(in.Key), query: c.storeQuery(), lookup: true}
	k, status, err := c.getBillingKey(ctx, req)
	if err != nil {
		return providers.BillingKey{}, err
	}
	var why string
	switch {
	case status != "ISSUED":
		return k, &providers.Error{Kind: providers.ErrRejected, Provider: providers.Portone, Op: op,
			PGCode: "BILLING_KEY_NOT_ISSUED", Err: fmt.Errorf("billing key status is %q, not ISSUED", status)}
	case k.Key != in.Key:
		why = "the reply names another billing key"
	case in.IssueID != "" && k.IssueID != in.IssueID:
		why = "issueId differs"
	case in.CustomerID != "" && k.CustomerID != in.CustomerID:
		why = "customer differs"
	case c.storeID != "" && k.StoreID != "" && k.StoreID != c.storeID:
		why = "store differs"
	}
	if why != "" {
		return k, &providers.Error{Kind: providers.ErrRejected, Provider: providers.Portone, Op: op,
			Err: fmt.Errorf("%w: %s", ErrForeignBillingKey, why)}
	}
	return k, nil
}

func (c *Client) getBillingKey(ctx context.Context, req request) (providers.BillingKey, string, error) {
	rep, err := c.call(ctx, req)
	if err != nil {
		return providers.BillingKey{}, "", err
	}
	if err := c.classify(req, rep); err != nil {
		return providers.BillingKey{}, "", err
	}
	var w wireBillingKey
	if err := c.decode(req, rep, &w); err != nil {
		return providers.BillingKey{}, "", err
	}
	k, err := w.billingKey()
	if err != nil {
		return providers.BillingKey{}, "", c.fail(req, providers.ErrUnknown, fmt.Errorf("decode billing key: %w", err))
	}
	return k, w.Status, nil
}

// issueRequest is the body of POST /billing-keys. It carries card data: it
// is marshalled straight into the request and never kept or logged.
type issueRequest struct {
	StoreID    string        `json:"storeId,omitempty"`
	ChannelKey string        `json:"channelKey"`
	Customer   issueCustomer `json:"customer"`
	Method     issueMethod   `json:"method"`
	NoticeURLs []string      `json:"noticeUrls,omitempty"`
}

type issueCustomer struct {
	ID          string     `json:"id,omitempty"`
	Name        *issueName `json:"name,omitempty"`
	Email       string     `json:"email,omitempty"`
	PhoneNumber string     `json:"phoneNumber,omitempty"`
}

type issueName struct {
	Full string `json:"full"`
}

type issueMethod struct {
	Card issueCard `json:"card"`
}

type issueCard struct {
	Credential issueCredential `json:"credential"`
}

type issueCredential struct {
	Number            string `json:"number"`
	ExpiryYear        string `json:"expiryYear"`
	ExpiryMonth       string `json:"expiryMonth"`
	Birth             string `json:"birthOrBusinessRegistrationNumber,omitempty"`
	PasswordTwoDigits string `json:"passwordTwoDigits,omitempty"`
}

type issueReply struct {
	BillingKeyInfo *struct {
		BillingKey string `json:"billingKey"`
		IssuedAt   string `json:"issuedAt"`
	} `json:"billingKeyInfo"`
}

// IssueBillingKey issues a key over REST with POST /billing-keys on the
// default channel. A card the PG refuses (PG_PROVIDER) is ErrDeclined;
// other refusals are ErrRejected; transport trouble is ErrUnknown — the
// key may exist, and since PortOne mints the key string, only a webhook or
// the customer's next attempt can tell. On success the key is read back
// for its card details; if that read fails the bare key is returned.
func (c *Client) IssueBillingKey(ctx context.Context, in providers.IssueBillingKeyRequest) (providers.BillingKey, error) {
	const op = "issue billing key"
	m := cardExpiry.FindStringSubmatch(in.Card.Expiry)
	switch {
	case c.channelKey == "":
		return providers.BillingKey{}, c.invalid(op, "the account has no channel_key to issue billing keys on")
	case !cardDigits.MatchString(in.Card.Number):
		return providers.BillingKey{}, c.invalid(op, "card number must be 13 to 19 digits")
	case m == nil:
		return providers.BillingKey{}, c.invalid(op, "card expiry must be YYYY-MM")
	}
	body := issueRequest{StoreID: c.storeID, ChannelKey: c.channelKey,
		Customer: issueCustomer{ID: in.CustomerID, Email: in.Buyer.Email, PhoneNumber: in.Buyer.Phone},
		Method: issueMethod{Card: issueCard{Credential: issueCredential{Number: in.Card.Number, ExpiryYear: m[1],
			ExpiryMonth: m[2], Birth: in.Card.Birth, PasswordTwoDigits: in.Card.Password2}}}}
	if in.Buyer.Name != "" {
		body.Customer.Name = &issueName{Full: in.Buyer.Name}
	}
	if in.NoticeURL != "" {
		body.NoticeURLs = []string{in.NoticeURL}
	}
	req := request{op: op, method: http.MethodPost, path: "/billing-keys", body: body,
		secrets: []string{in.Card.Number, in.Card.Birth, in.Card.Password2}}
	rep, err := c.call(ctx, req)
	if err != nil {
		return providers.BillingKey{}, err
	}
	if err := c.classify(req, rep); err != nil {
		if pe, _ := providers.AsError(err); pe != nil && rep.err.Type == "PG_PROVIDER" {
			pe.Kind = providers.ErrDeclined // the card itself was refused
		}
		return providers.BillingKey{}, err
	}
	var out issueReply
	if err := c.decode(req, rep, &out); err != nil {
		return providers.BillingKey{}, err
	}
	if out.BillingKeyInfo == nil || out.BillingKeyInfo.BillingKey == "" {
		return providers.BillingKey{}, c.fail(req, providers.ErrUnknown, errors.New("reply has no billingKeyInfo"))
	}
	var cv conv
	bare := providers.BillingKey{Key: out.BillingKeyInfo.BillingKey, CustomerID: in.CustomerID, StoreID: c.storeID,
		IssuedAt: cv.time(out.BillingKeyInfo.IssuedAt)}
	full, status, err := c.getBillingKey(ctx, request{op: op, method: http.MethodGet, path: billingKeyPath(bare.Key),
		query: c.storeQuery(), lookup: true})
	if err != nil || status != "ISSUED" {
		return bare, nil
	}
	return full, nil
}

// DeleteBillingKey deletes a key with DELETE /billing-keys/{billingKey}.
// A key PortOne does not know or already deleted is ErrNotFound; a key
// with pending schedules is refused (PAYMENT_SCHEDULE_ALREADY_EXISTS,
// ErrRejected): revoke them first.
func (c *Client) DeleteBillingKey(ctx context.Context, key string) error {
	const op = "delete billing key"
	if key == "" {
		return c.invalid(op, "billing key is required")
	}
	q := c.storeQuery()
	if q == nil {
		q = url.Values{}
	}
	q.Set("reason", "deleted by the merchant")
	req := request{op: op, method: http.MethodDelete, path: billingKeyPath(key), query: q, lookup: true}
	rep, err := c.call(ctx, req)
	if err != nil {
		return err
	}
	if err := c.classify(req, rep); err != nil {
		if pe, _ := providers.AsError(err); pe != nil && rep.err.Type == "BILLING_KEY_ALREADY_DELETED" {
			pe.Kind = providers.ErrNotFound
		}
		return err
	}
	return nil
}
