package sandbox

import (
	"encoding/json"
	"math"
	"strconv"
	"time"
)

// kst: v1 times are KST without an offset, v2 times carry +09:00.
var kst = time.FixedZone("KST", 9*60*60)

func v2Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(kst).Format(time.RFC3339)
}

func v1Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(kst).Format("2006-01-02 15:04:05")
}

// wholeNumber reads an integer from a JSON number, refusing fractions.
func wholeNumber(n json.Number) (int64, bool) {
	if n == "" {
		return 0, true
	}
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return i, true
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}

var pgLabels = map[string]string{
	"nicepay": "나이스페이먼츠", "kcp": "KCP", "payapp": "페이앱", "welcome": "웰컴페이먼츠",
	"danal": "다날", "inicis": "KG이니시스", "payletter": "페이레터",
}

func pgLabel(alias string) string {
	if l, ok := pgLabels[alias]; ok {
		return l
	}
	return alias
}

var statusLocale = map[int]string{
	statusWaiting: "결제대기", statusPaid: "결제완료", statusApproving: "결제승인중", statusKeyIssued: "빌링키발급완료",
	statusVerified: "본인인증완료", statusCancelled: "결제취소완료", statusApprovalFailed: "결제승인실패",
	statusKeyRevoked: "빌링키삭제",
}

var statusEn = map[int]string{
	statusWaiting: "ready", statusPaid: "complete", statusApproving: "approving", statusCancelled: "cancel",
	statusApprovalFailed: "failure",
}

type v2CardData struct {
	TID             string `json:"tid"`
	CardApproveNo   string `json:"card_approve_no"`
	CardNo          string `json:"card_no"`
	CardQuota       string `json:"card_quota"`
	CardCompanyCode string `json:"card_company_code"`
	CardCompany     string `json:"card_company"`
	CardInterest    string `json:"card_interest"`
	CardType        string `json:"card_type"`
}

type v2ReceiptJSON struct {
	ReceiptID          string          `json:"receipt_id"`
	OrderID            string          `json:"order_id"`
	Price              int64           `json:"price"`
	TaxFree            int64           `json:"tax_free"`
	CancelledPrice     int64           `json:"cancelled_price"`
	CancelledTaxFree   int64           `json:"cancelled_tax_free"`
	OrderName          string          `json:"order_name"`
	CompanyName        string          `json:"company_name"`
	GatewayURL         string          `json:"gateway_url"`
	Metadata           json.RawMessage `json:"metadata"`
	Sandbox            bool            `json:"sandbox"`
	PG                 string          `json:"pg"`
	Method             string          `json:"method"`
	MethodSymbol       string          `json:"method_symbol"`
	MethodOrigin       string          `json:"method_origin"`
	MethodOriginSymbol string          `json:"method_origin_symbol"`
	RequestedAt        string          `json:"requested_at"`
	PurchasedAt        string          `json:"purchased_at,omitempty"`
	CancelledAt        string          `json:"cancelled_at,omitempty"`
	Status             int             `json:"status"`
	StatusLocale       string          `json:"status_locale"`
	ReceiptURL         string          `json:"receipt_url"`
	Currency           string          `json:"currency"`
	CardData           *v2CardData     `json:"card_data,omitempty"`
	WebhookType        string          `json:"webhook_type,omitempty"`
}

var emptyObject = json.RawMessage(`{}`)

func (rc receipt) v2() v2ReceiptJSON {
	md := rc.metadata
	if len(md) == 0 {
		md = emptyObject
	}
	out := v2ReceiptJSON{ReceiptID: rc.id, OrderID: rc.orderID, Price: rc.price, TaxFree: rc.taxFree,
		CancelledPrice: rc.cancelledPrice, CancelledTaxFree: rc.cancelledTax, OrderName: rc.orderName,
		CompanyName: "billingd sandbox", GatewayURL: "https://gw.bootpay.co.kr", Metadata: md, Sandbox: true,
		PG: pgLabel(rc.pg), Method: "카드자동", MethodSymbol: "card_rebill_rest", MethodOrigin: "카드자동",
		MethodOriginSymbol: "card_rebill_rest", RequestedAt: v2Time(rc.requestedAt), PurchasedAt: v2Time(rc.purchasedAt),
		CancelledAt: v2Time(rc.cancelledAt), Status: rc.status, StatusLocale: statusLocale[rc.status],
		ReceiptURL: "https://sandbox.invalid/bill/" + rc.id, Currency: "KRW"}
	if rc.status == statusPaid || rc.status == statusCancelled {
		out.CardData = &v2CardData{TID: rc.tid, CardApproveNo: rc.approveNo, CardNo: rc.card.masked, CardQuota: "00",
			CardCompanyCode: rc.card.code, CardCompany: rc.card.company, CardInterest: "0", CardType: cardTypeName(rc.card.cardType)}
	}
	return out
}

func cardTypeName(t int) string {
	if t == 1 {
		return "체크"
	}
	return "신용"
}

type v1PaymentData struct {
	CardName   string `json:"card_name"`
	CardNo     string `json:"card_no"`
	CardQuota  string `json:"card_quota"`
	CardCode   string `json:"card_code"`
	CardAuthNo string `json:"card_auth_no"`
	ReceiptID  string `json:"receipt_id"`
	N          string `json:"n"`
	P          int64  `json:"p"`
	TID        string `json:"tid"`
	PG         string `json:"pg"`
	PM         string `json:"pm"`
	PGA        string `json:"pg_a"`
	PMA        string `json:"pm_a"`
	OID        string `json:"o_id"`
	PAt        string `json:"p_at"`
	S          int    `json:"s"`
	G          int    `json:"g"`
}

type v1ReceiptJSON struct {
	ReceiptID        string         `json:"receipt_id"`
	OrderID          string         `json:"order_id"`
	Name             string         `json:"name"`
	ItemName         string         `json:"item_name"`
	Price            int64          `json:"price"`
	TaxFree          int64          `json:"tax_free"`
	RemainPrice      int64          `json:"remain_price"`
	RemainTaxFree    int64          `json:"remain_tax_free"`
	CancelledPrice   int64          `json:"cancelled_price"`
	CancelledTaxFree int64          `json:"cancelled_tax_free"`
	ReceiptURL       string         `json:"receipt_url"`
	Unit             string         `json:"unit"`
	PG               string         `json:"pg"`
	PGName           string         `json:"pg_name"`
	Method           string         `json:"method"`
	MethodName       string         `json:"method_name"`
	CardNo           string         `json:"card_no,omitempty"`
	CardCode         string         `json:"card_code,omitempty"`
	CardName         string         `json:"card_name,omitempty"`
	CardQuota        string         `json:"card_quota,omitempty"`
	PaymentData      *v1PaymentData `json:"payment_data"`
	RequestedAt      string         `json:"requested_at"`
	PurchasedAt      string         `json:"purchased_at"`
	RevokedAt        string         `json:"revoked_at"`
	Status           int            `json:"status"`
	StatusEn         string         `json:"status_en"`
	StatusKo         string         `json:"status_ko"`
}

func (rc receipt) v1() v1ReceiptJSON {
	out := v1ReceiptJSON{ReceiptID: rc.id, OrderID: rc.orderID, Name: rc.orderName, ItemName: rc.orderName,
		Price: rc.price, TaxFree: rc.taxFree, RemainPrice: rc.price - rc.cancelledPrice,
		RemainTaxFree: rc.taxFree - rc.cancelledTax, CancelledPrice: rc.cancelledPrice, CancelledTaxFree: rc.cancelledTax,
		ReceiptURL: "https://sandbox.invalid/bill/" + rc.id, Unit: "krw", PG: rc.pg, PGName: pgLabel(rc.pg),
		Method: "card_rebill_rest", MethodName: "카드정기결제", RequestedAt: v1Time(rc.requestedAt),
		PurchasedAt: v1Time(rc.purchasedAt), RevokedAt: v1Time(rc.cancelledAt), Status: rc.status,
		StatusEn: statusEn[rc.status], StatusKo: statusLocale[rc.status]}
	if rc.status == statusPaid || rc.status == statusCancelled {
		out.CardNo, out.CardCode, out.CardName, out.CardQuota = rc.card.masked, rc.card.code, rc.card.company, "00"
		out.PaymentData = &v1PaymentData{CardName: rc.card.company, CardNo: rc.card.masked, CardQuota: "00",
			CardCode: rc.card.code, CardAuthNo: rc.approveNo, ReceiptID: rc.id, N: rc.orderName, P: rc.price, TID: rc.tid,
			PG: pgLabel(rc.pg), PM: "카드정기결제", PGA: rc.pg, PMA: "card_rebill_rest", OID: rc.orderID,
			PAt: v1Time(rc.purchasedAt), S: rc.status, G: 2}
	}
	return out
}

type v2KeyJSON struct {
	ReceiptID      string `json:"receipt_id"`
	SubscriptionID string `json:"subscription_id"`
	BillingKey     string `json:"billing_key"`
	BillingData    struct {
		CardNo          string `json:"card_no"`
		CardCompany     string `json:"card_company"`
		CardCompanyCode string `json:"card_company_code"`
		CardType        int    `json:"card_type"`
	} `json:"billing_data"`
	GatewayURL         string          `json:"gateway_url"`
	Metadata           json.RawMessage `json:"metadata"`
	PG                 string          `json:"pg"`
	Method             string          `json:"method"`
	MethodSymbol       string          `json:"method_symbol"`
	MethodOrigin       string          `json:"method_origin"`
	MethodOriginSymbol string          `json:"method_origin_symbol"`
	PublishedAt        string          `json:"published_at"`
	RequestedAt        string          `json:"requested_at"`
	BillingExpireAt    string          `json:"billing_expire_at"`
	ReceiptData        json.RawMessage `json:"receipt_data"`
	Status             int             `json:"status"`
	StatusLocale       string          `json:"status_locale"`
}

var keyExpiry = time.Date(2099, 12, 31, 23, 59, 59, 0, kst)

func (k billingKey) v2() v2KeyJSON {
	out := v2KeyJSON{ReceiptID: k.receiptID, SubscriptionID: k.subscriptionID, BillingKey: k.key,
		GatewayURL: "https://gw.bootpay.co.kr", Metadata: emptyObject, PG: pgLabel(k.pg), Method: "카드자동",
		MethodSymbol: "card_rebill_rest", MethodOrigin: "카드자동", MethodOriginSymbol: "card_rebill_rest",
		PublishedAt: v2Time(k.publishedAt), RequestedAt: v2Time(k.requestedAt), BillingExpireAt: v2Time(keyExpiry),
		ReceiptData: emptyObject, Status: k.status, StatusLocale: statusLocale[k.status]}
	out.BillingData.CardNo, out.BillingData.CardCompany = k.card.masked, k.card.company
	out.BillingData.CardCompanyCode, out.BillingData.CardType = k.card.code, k.card.cardType
	return out
}

func (k billingKey) v1() map[string]any {
	return map[string]any{"billing_key": k.key, "pg": k.pg, "pg_name": pgLabel(k.pg), "method": "card_rebill_rest",
		"method_name": "카드정기결제 REST", "e_at": v1Time(keyExpiry), "c_at": v1Time(k.publishedAt),
		"data": map[string]any{"card_code": k.card.code, "card_name": k.card.company, "card_no": k.card.masked,
			"card_cl": strconv.Itoa(k.card.cardType)}}
}
