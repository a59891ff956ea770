package sandbox

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// card is the masked card a billing key stands for.
type card struct {
	Publisher string `json:"publisher"`
	Issuer    string `json:"issuer"`
	Brand     string `json:"brand"`
	Type      string `json:"type"`
	OwnerType string `json:"ownerType"`
	Bin       string `json:"bin"`
	Name      string `json:"name"`
	Number    string `json:"number"`
}

// channel is the sandbox's one test channel, named by the channelKey used.
type channel struct {
	Type         string `json:"type"`
	ID           string `json:"id"`
	Key          string `json:"key"`
	Name         string `json:"name"`
	PGProvider   string `json:"pgProvider"`
	PGMerchantID string `json:"pgMerchantId"`
}

func testChannel(key string) channel {
	return channel{Type: "TEST", ID: "channel-id-sandbox", Key: key, Name: "sandbox", PGProvider: "TOSSPAYMENTS", PGMerchantID: "tosstest"}
}

type customer struct {
	ID          string `json:"id,omitempty"`
	Name        string `json:"name,omitempty"`
	Email       string `json:"email,omitempty"`
	PhoneNumber string `json:"phoneNumber,omitempty"`
}

type billingKey struct {
	key, storeID, issueID, issueName string
	status                           string // ISSUED | DELETED
	customer                         customer
	card                             card
	channel                          channel
	requestedAt, issuedAt, deletedAt time.Time
}

func (k *billingKey) render() map[string]any {
	m := map[string]any{
		"status": k.status, "billingKey": k.key, "merchantId": "merchant-sandbox", "storeId": k.storeID,
		"methods":  []any{map[string]any{"type": "BillingKeyPaymentMethodCard", "card": k.card}},
		"channels": []channel{k.channel}, "customer": k.customer,
		"requestedAt": stamp(k.requestedAt), "issuedAt": stamp(k.issuedAt),
	}
	if k.issueID != "" {
		m["issueId"] = k.issueID
	}
	if k.issueName != "" {
		m["issueName"] = k.issueName
	}
	if k.status == "DELETED" {
		m["deletedAt"] = stamp(k.deletedAt)
	}
	return m
}

type cancellation struct {
	Status           string `json:"status"`
	ID               string `json:"id"`
	PGCancellationID string `json:"pgCancellationId"`
	TotalAmount      int64  `json:"totalAmount"`
	TaxFreeAmount    int64  `json:"taxFreeAmount"`
	VatAmount        int64  `json:"vatAmount"`
	Reason           string `json:"reason"`
	CancelledAt      string `json:"cancelledAt"`
	RequestedAt      string `json:"requestedAt"`
	Trigger          string `json:"trigger"`
}

type payment struct {
	id, txID, storeID, billingKey, scheduleID, orderName, customData, pgTxID string
	status                                                                   string
	total, taxFree, vat, cancelled, cancelledTaxFree                         int64
	customer                                                                 customer
	card                                                                     card
	channel                                                                  channel
	requestedAt, updatedAt, paidAt, failedAt, cancelledAt                    time.Time
	failReason, failPGCode, failPGMessage                                    string
	cancellations                                                            []cancellation
	noticeURLs                                                               []string
}

// render is the payment object of GET /payments/{paymentId}: the fields of
// every status, plus those of its own.
func (p *payment) render() map[string]any {
	m := map[string]any{
		"status": p.status, "id": p.id, "transactionId": p.txID, "merchantId": "merchant-sandbox", "storeId": p.storeID,
		"method": map[string]any{"type": "PaymentMethodCard", "card": p.card, "approvalNumber": approval(p.pgTxID),
			"installment": map[string]any{"month": 0, "isInterestFree": false}},
		"channel": p.channel, "version": "V2", "billingKey": p.billingKey,
		"requestedAt": stamp(p.requestedAt), "updatedAt": stamp(p.updatedAt), "statusChangedAt": stamp(p.updatedAt),
		"orderName": p.orderName, "currency": "KRW", "customer": p.customer, "isCulturalExpense": false, "products": []any{},
		"amount": map[string]int64{"total": p.total, "taxFree": p.taxFree, "vat": p.vat, "supply": p.total - p.taxFree - p.vat,
			"discount": 0, "paid": p.paidAmount(), "cancelled": p.cancelled, "cancelledTaxFree": p.cancelledTaxFree},
	}
	if p.scheduleID != "" {
		m["scheduleId"] = p.scheduleID
	}
	if p.customData != "" {
		m["customData"] = p.customData
	}
	switch p.status {
	case "PAID", "PARTIAL_CANCELLED", "CANCELLED":
		m["paidAt"], m["pgTxId"] = stamp(p.paidAt), p.pgTxID
		m["receiptUrl"] = "https://sandbox.portone.invalid/receipts/" + p.txID
		m["cancellations"] = append([]cancellation{}, p.cancellations...)
		if p.status != "PAID" {
			m["cancelledAt"] = stamp(p.cancelledAt)
		}
	case "FAILED":
		m["failedAt"] = stamp(p.failedAt)
		m["failure"] = map[string]string{"reason": p.failReason, "pgCode": p.failPGCode, "pgMessage": p.failPGMessage}
	}
	return m
}

func (p *payment) paidAmount() int64 {
	if p.status == "PAID" || p.status == "PARTIAL_CANCELLED" || p.status == "CANCELLED" {
		return p.total
	}
	return 0
}

// settled reports whether the paymentId is taken for good: one PAID per id.
func (p *payment) settled() bool {
	return p.status == "PAID" || p.status == "PARTIAL_CANCELLED" || p.status == "CANCELLED"
}

type schedule struct {
	id, paymentID, billingKey, storeID, orderName, customData string
	status                                                    string // SCHEDULED | STARTED | SUCCEEDED | FAILED | REVOKED
	total, taxFree, vat                                       int64
	customer                                                  customer
	noticeURLs                                                []string
	createdAt, timeToPay, startedAt, completedAt, revokedAt   time.Time
}

func (sc *schedule) render() map[string]any {
	m := map[string]any{
		"status": sc.status, "id": sc.id, "merchantId": "merchant-sandbox", "storeId": sc.storeID, "paymentId": sc.paymentID,
		"billingKey": sc.billingKey, "orderName": sc.orderName, "isCulturalExpense": false, "isEscrow": false,
		"customer": sc.customer, "customData": sc.customData, "totalAmount": sc.total, "taxFreeAmount": sc.taxFree,
		"vatAmount": sc.vat, "currency": "KRW", "installmentMonth": 0, "noticeUrls": append([]string{}, sc.noticeURLs...),
		"products": []any{}, "createdAt": stamp(sc.createdAt), "timeToPay": stamp(sc.timeToPay),
	}
	switch sc.status {
	case "STARTED":
		m["startedAt"] = stamp(sc.startedAt)
	case "SUCCEEDED", "FAILED":
		m["startedAt"], m["completedAt"] = stamp(sc.startedAt), stamp(sc.completedAt)
	case "REVOKED":
		m["revokedAt"] = stamp(sc.revokedAt)
	}
	return m
}

// live: the schedule still holds its paymentId.
func (sc *schedule) live() bool { return sc.status == "SCHEDULED" || sc.status == "STARTED" }

// stamp renders a time as PortOne does (RFC 3339, UTC, milliseconds).
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// amountInput is the wire's PaymentAmountInput.
type amountInput struct {
	Total   json.Number `json:"total"`
	TaxFree json.Number `json:"taxFree"`
	Vat     json.Number `json:"vat"`
}

// whole reads an int64 amount; ok is false for a fraction or garbage.
func whole(n json.Number) (v int64, present, ok bool) {
	s := string(n)
	if s == "" {
		return 0, false, true
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i, true, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, true, false
	}
	return int64(f), true, true
}

// amounts validates an amount input: total required and positive, parts
// not negative. The vat defaults to (total − taxFree)/11, rounded down.
func (in amountInput) amounts() (total, taxFree, vat int64, err string) {
	total, hasTotal, ok1 := whole(in.Total)
	taxFree, _, ok2 := whole(in.TaxFree)
	vat, hasVat, ok3 := whole(in.Vat)
	switch {
	case !hasTotal || !ok1 || !ok2 || !ok3 || total <= 0 || taxFree < 0 || vat < 0:
		return 0, 0, 0, "amount.total은 양의 정수여야 하고 taxFree, vat는 음수일 수 없습니다."
	case !hasVat:
		vat = max(total-taxFree, 0) / 11
	}
	return total, taxFree, vat, ""
}

// masked shows a card number as its BIN, asterisks and last four digits.
func masked(number string) string {
	if len(number) < 10 {
		return strings.Repeat("*", len(number))
	}
	return number[:6] + strings.Repeat("*", len(number)-10) + number[len(number)-4:]
}

func testCard(number string) card {
	return card{Publisher: "SHINHAN", Issuer: "SHINHAN", Brand: "VISA", Type: "CREDIT", OwnerType: "PERSONAL",
		Bin: number[:6], Name: "신한카드", Number: masked(number)}
}

func (p *payment) String() string { return fmt.Sprintf("payment %s %s %d", p.id, p.status, p.total) }

// approval is the card approval number: the PG transaction's last digits.
func approval(pgTxID string) string {
	if len(pgTxID) < 8 {
		return ""
	}
	return pgTxID[len(pgTxID)-8:]
}
