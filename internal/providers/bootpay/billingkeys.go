package bootpay

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/billingd/billingd/internal/providers"
)

// v2BillingKey is v2's billing-key object (GET /subscribe/billing_key/{receipt_id},
// GET /billing_key/{billing_key}, POST /request/subscribe).
type v2BillingKey struct {
	ReceiptID   string `json:"receipt_id"`
	BillingKey  string `json:"billing_key"`
	BillingData struct {
		CardNo          string  `json:"card_no"`
		CardCompany     string  `json:"card_company"`
		CardCompanyCode string  `json:"card_company_code"`
		CardType        flexInt `json:"card_type"`
	} `json:"billing_data"`
	PG           string   `json:"pg"`
	MethodSymbol string   `json:"method_symbol"`
	PublishedAt  wireTime `json:"published_at"`
	Status       flexInt  `json:"status"`
}

// v1BillingKey is v1's POST /request/card_rebill reply data.
type v1BillingKey struct {
	BillingKey string `json:"billing_key"`
	PG         string `json:"pg"`
	Data       struct {
		CardName string `json:"card_name"`
		CardNo   string `json:"card_no"`
		CardCl   string `json:"card_cl"`
	} `json:"data"`
	CreatedAt wireTime `json:"c_at"`
}

// cardType maps Bootpay's card type (v2 card_type, v1 card_cl) to the
// contract's words. Both use 0 = credit, 1 = check (v1 card_cl is
// documented so for NicePay; v2's card_type is assumed to follow it).
func cardType(v string) string {
	switch v {
	case "0":
		return "credit"
	case "1":
		return "check"
	}
	return ""
}

func (k v2BillingKey) billingKey() providers.BillingKey {
	return providers.BillingKey{Key: k.BillingKey, PG: k.PG, CardName: k.BillingData.CardCompany,
		CardNumber: k.BillingData.CardNo, CardType: cardType(strconv.FormatInt(int64(k.BillingData.CardType), 10)),
		IssuedAt: k.PublishedAt.Time}
}

// VerifyBillingKey confirms a billing key that Bootpay's window issued.
// v2: GET /subscribe/billing_key/{receipt_id} with req.ReceiptID (the
// window's done event carries only the receipt_id), or GET
// /billing_key/{billing_key} when only req.Key is given. The key must be in
// status 11 (issued). v1 has no billing-key lookup: ErrRejected.
func (c *Client) VerifyBillingKey(ctx context.Context, req providers.VerifyBillingKeyRequest) (providers.BillingKey, error) {
	const op = "verify_billing_key"
	if c.v1 {
		return providers.BillingKey{}, c.unsupported(op, "no billing-key lookup; v1 windows hand the billing_key to the client")
	}
	cl := call{op: op, method: http.MethodGet, notFound: true}
	switch {
	case req.ReceiptID != "":
		cl.path, cl.route = "/subscribe/billing_key/"+url.PathEscape(req.ReceiptID), "/subscribe/billing_key/{receipt_id}"
	case req.Key != "":
		cl.path, cl.route = "/billing_key/"+url.PathEscape(req.Key), "/billing_key/{billing_key}"
	default:
		return providers.BillingKey{}, c.rejectLocal(op, "receipt id or billing key is required")
	}
	var k v2BillingKey
	if err := c.send(ctx, cl, &k); err != nil {
		return providers.BillingKey{}, err
	}
	if k.Status != statusBillingKeyIssued || k.BillingKey == "" {
		return providers.BillingKey{}, c.fail(cl, providers.ErrRejected, strconv.FormatInt(int64(k.Status), 10), "billing key is not issued", nil)
	}
	return k.billingKey(), nil
}

type v2IssueKey struct {
	PG              string `json:"pg"`
	OrderName       string `json:"order_name"`
	SubscriptionID  string `json:"subscription_id"`
	CardNo          string `json:"card_no"`
	CardPw          string `json:"card_pw"`
	CardIdentityNo  string `json:"card_identity_no"`
	CardExpireYear  string `json:"card_expire_year"`
	CardExpireMonth string `json:"card_expire_month"`
	User            *buyer `json:"user,omitempty"`
}

type v1IssueKey struct {
	OrderID        string `json:"order_id"`
	PG             string `json:"pg"`
	ItemName       string `json:"item_name"`
	CardNo         string `json:"card_no"`
	CardPw         string `json:"card_pw"`
	ExpireYear     string `json:"expire_year"`
	ExpireMonth    string `json:"expire_month"`
	IdentifyNumber string `json:"identify_number"`
	UserInfo       *buyer `json:"user_info,omitempty"`
}

// splitExpiry turns "YYYY-MM" into two-digit year and month. Messages
// never repeat the card data.
func splitExpiry(s string) (yy, mm string, ok bool) {
	y, m, found := strings.Cut(s, "-")
	if !found || len(y) != 4 || len(m) != 2 || !digits(y) || !digits(m) || m < "01" || m > "12" {
		return "", "", false
	}
	return y[2:], m, true
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// IssueBillingKey issues a card billing key over REST: v2 POST
// /request/subscribe (subscription_id = req.Key), v1 POST
// /request/card_rebill (order_id = req.Key). The card data is sent and
// forgotten. A card the PG refuses (pg_error_code) is ErrDeclined.
func (c *Client) IssueBillingKey(ctx context.Context, req providers.IssueBillingKeyRequest) (providers.BillingKey, error) {
	const op = "issue_billing_key"
	yy, mm, ok := splitExpiry(req.Card.Expiry)
	switch {
	case req.Key == "" || req.PG == "":
		return providers.BillingKey{}, c.rejectLocal(op, "key (subscription id) and pg are required")
	case !digits(req.Card.Number) || len(req.Card.Number) < 12 || len(req.Card.Number) > 19:
		return providers.BillingKey{}, c.rejectLocal(op, "card number must be 12-19 digits")
	case !ok:
		return providers.BillingKey{}, c.rejectLocal(op, "card expiry must be YYYY-MM")
	case !digits(req.Card.Birth) || (len(req.Card.Birth) != 6 && len(req.Card.Birth) != 10):
		return providers.BillingKey{}, c.rejectLocal(op, "card owner birth (YYMMDD) or business number (10 digits) required")
	case req.Card.Password2 != "" && (len(req.Card.Password2) != 2 || !digits(req.Card.Password2)):
		return providers.BillingKey{}, c.rejectLocal(op, "card password must be its first two digits")
	}
	orderName := firstNonEmpty(req.OrderName, "billing key")
	cl := call{op: op, method: http.MethodPost, write: true, payment: true}
	if c.v1 {
		cl.path, cl.route = "/request/card_rebill", "/request/card_rebill"
		cl.body = v1IssueKey{OrderID: req.Key, PG: req.PG, ItemName: orderName, CardNo: req.Card.Number,
			CardPw: req.Card.Password2, ExpireYear: yy, ExpireMonth: mm, IdentifyNumber: req.Card.Birth, UserInfo: buyerOf(req.Buyer)}
		var k v1BillingKey
		if err := c.send(ctx, cl, &k); err != nil {
			return providers.BillingKey{}, err
		}
		if k.BillingKey == "" {
			return providers.BillingKey{}, c.unreadable(cl, reply{status: http.StatusOK}, errFieldMissing("billing_key"))
		}
		return providers.BillingKey{Key: k.BillingKey, PG: k.PG, CardName: k.Data.CardName, CardNumber: k.Data.CardNo,
			CardType: cardType(k.Data.CardCl), IssuedAt: k.CreatedAt.Time}, nil
	}
	cl.path, cl.route = "/request/subscribe", "/request/subscribe"
	cl.body = v2IssueKey{PG: req.PG, OrderName: orderName, SubscriptionID: req.Key, CardNo: req.Card.Number,
		CardPw: req.Card.Password2, CardIdentityNo: req.Card.Birth, CardExpireYear: yy, CardExpireMonth: mm, User: buyerOf(req.Buyer)}
	var k v2BillingKey
	if err := c.send(ctx, cl, &k); err != nil {
		return providers.BillingKey{}, err
	}
	if k.BillingKey == "" || (k.Status != 0 && k.Status != statusBillingKeyIssued) {
		return providers.BillingKey{}, c.fail(cl, providers.ErrUnknown, strconv.FormatInt(int64(k.Status), 10), "reply without an issued billing key", nil)
	}
	return k.billingKey(), nil
}

// DeleteBillingKey removes a key: v2 DELETE /subscribe/billing_key/{key},
// v1 DELETE /subscribe/billing/{key}. ErrNotFound when already gone.
// Bootpay does not cancel the key's pending reservations (reference §8.2):
// billingd must CancelReserve them first.
func (c *Client) DeleteBillingKey(ctx context.Context, key string) error {
	const op = "delete_billing_key"
	if key == "" {
		return c.rejectLocal(op, "billing key is required")
	}
	cl := call{op: op, method: http.MethodDelete, write: true, notFound: true}
	if c.v1 {
		cl.path, cl.route = "/subscribe/billing/"+url.PathEscape(key), "/subscribe/billing/{billing_key}"
	} else {
		cl.path, cl.route = "/subscribe/billing_key/"+url.PathEscape(key), "/subscribe/billing_key/{billing_key}"
	}
	return c.send(ctx, cl, nil)
}

type errFieldMissing string

func (e errFieldMissing) Error() string { return "reply has no " + string(e) }
