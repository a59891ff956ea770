package sandbox

import (
	"encoding/json"
	"fmt"
	"sort"
)

// NullString is text that Iamport sends as JSON null when absent.
type NullString string

// MarshalJSON encodes "" as null.
func (s NullString) MarshalJSON() ([]byte, error) {
	if s == "" {
		return []byte("null"), nil
	}
	return json.Marshal(string(s))
}

// Customer is a billing key record (SPEC CustomerAnnotation).
type Customer struct {
	CustomerUID      string     `json:"customer_uid"`
	PGProvider       string     `json:"pg_provider"`
	PGID             string     `json:"pg_id"`
	Sandbox          bool       `json:"sandbox"`
	CustomerID       NullString `json:"customer_id"`
	CardName         NullString `json:"card_name"`
	CardCode         NullString `json:"card_code"`
	CardNumber       NullString `json:"card_number"` // masked
	CardType         *int       `json:"card_type"`   // 0 credit, 1 check, null for non-card methods
	CustomerName     NullString `json:"customer_name"`
	CustomerTel      NullString `json:"customer_tel"`
	CustomerEmail    NullString `json:"customer_email"`
	CustomerAddr     NullString `json:"customer_addr"`
	CustomerPostcode NullString `json:"customer_postcode"`
	Inserted         int64      `json:"inserted"`
	Updated          int64      `json:"updated"`

	payMethod string // what charges with this key report as pay_method
}

// Payment is a payment record (SPEC PaymentAnnotation); every key is always
// present, absent text is null and absent times are 0, as in real replies.
type Payment struct {
	ImpUID            string          `json:"imp_uid"`
	MerchantUID       string          `json:"merchant_uid"`
	PayMethod         string          `json:"pay_method"`
	Channel           string          `json:"channel"`
	PGProvider        string          `json:"pg_provider"`
	EmbPGProvider     NullString      `json:"emb_pg_provider"`
	PGTID             NullString      `json:"pg_tid"`
	PGID              string          `json:"pg_id"`
	Escrow            bool            `json:"escrow"`
	ApplyNum          NullString      `json:"apply_num"`
	BankCode          NullString      `json:"bank_code"`
	BankName          NullString      `json:"bank_name"`
	CardCode          NullString      `json:"card_code"`
	CardName          NullString      `json:"card_name"`
	CardQuota         int             `json:"card_quota"`
	CardNumber        NullString      `json:"card_number"`
	CardType          *int            `json:"card_type"`
	VbankCode         NullString      `json:"vbank_code"`
	VbankName         NullString      `json:"vbank_name"`
	VbankNum          NullString      `json:"vbank_num"`
	VbankHolder       NullString      `json:"vbank_holder"`
	VbankDate         int64           `json:"vbank_date"`
	VbankIssuedAt     int64           `json:"vbank_issued_at"`
	Name              NullString      `json:"name"`
	Amount            int64           `json:"amount"`
	CancelAmount      int64           `json:"cancel_amount"`
	Currency          string          `json:"currency"`
	BuyerName         NullString      `json:"buyer_name"`
	BuyerEmail        NullString      `json:"buyer_email"`
	BuyerTel          NullString      `json:"buyer_tel"`
	BuyerAddr         NullString      `json:"buyer_addr"`
	BuyerPostcode     NullString      `json:"buyer_postcode"`
	CustomData        NullString      `json:"custom_data"`
	UserAgent         NullString      `json:"user_agent"`
	Status            string          `json:"status"` // ready | paid | failed | cancelled
	StartedAt         int64           `json:"started_at"`
	PaidAt            int64           `json:"paid_at"`
	FailedAt          int64           `json:"failed_at"`
	CancelledAt       int64           `json:"cancelled_at"`
	FailReason        NullString      `json:"fail_reason"`
	CancelReason      NullString      `json:"cancel_reason"`
	ReceiptURL        NullString      `json:"receipt_url"`
	CancelHistory     []CancelHistory `json:"cancel_history"`
	CancelReceiptURLs []string        `json:"cancel_receipt_urls"`
	CashReceiptIssued bool            `json:"cash_receipt_issued"`
	CustomerUID       NullString      `json:"customer_uid"`
	CustomerUIDUsage  NullString      `json:"customer_uid_usage"` // payment | payment.scheduled
	Sandbox           bool            `json:"sandbox"`

	seq       int64  // creation order, to sort attempts of one merchant_uid
	noticeURL string // where the paid webhook goes
}

// CancelHistory is one (partial) cancel of a payment.
type CancelHistory struct {
	PGTID          string     `json:"pg_tid"`
	Amount         int64      `json:"amount"`
	CancelledAt    int64      `json:"cancelled_at"`
	Reason         NullString `json:"reason"`
	CancellationID string     `json:"cancellation_id"`
	ReceiptURL     NullString `json:"receipt_url"`
}

// Schedule is a scheduled payment record (SPEC ScheduleResultAnnotation).
type Schedule struct {
	CustomerUID    string     `json:"customer_uid"`
	MerchantUID    string     `json:"merchant_uid"`
	ImpUID         NullString `json:"imp_uid"`
	PGProvider     NullString `json:"pg_provider"`
	PGID           NullString `json:"pg_id"`
	CustomerID     NullString `json:"customer_id"`
	ScheduleAt     int64      `json:"schedule_at"`
	ExecutedAt     int64      `json:"executed_at"`
	RevokedAt      int64      `json:"revoked_at"`
	Amount         int64      `json:"amount"`
	Currency       string     `json:"currency"`
	Name           NullString `json:"name"`
	BuyerName      NullString `json:"buyer_name"`
	BuyerEmail     NullString `json:"buyer_email"`
	BuyerTel       NullString `json:"buyer_tel"`
	BuyerAddr      NullString `json:"buyer_addr"`
	BuyerPostcode  NullString `json:"buyer_postcode"`
	CustomData     NullString `json:"custom_data"`
	ScheduleStatus string     `json:"schedule_status"` // scheduled | executed | revoked
	PaymentStatus  NullString `json:"payment_status"`  // null until executed, then paid | failed
	FailReason     NullString `json:"fail_reason"`

	taxFree   int64
	noticeURL string
}

// account is one merchant's data, partitioned by imp_key.
type account struct {
	key, secret string
	token       *accessToken
	customers   map[string]*Customer
	payments    map[string]*Payment   // by imp_uid
	orders      map[string][]*Payment // by merchant_uid, oldest first
	schedules   map[string]*Schedule  // by merchant_uid
}

func newAccount(key, secret string) *account {
	return &account{
		key: key, secret: secret,
		customers: map[string]*Customer{},
		payments:  map[string]*Payment{},
		orders:    map[string][]*Payment{},
		schedules: map[string]*Schedule{},
	}
}

// orderTaken reports why merchant_uid cannot start a new charge: it was
// paid (cancelled payments were paid too) or a schedule holds it.
func (a *account) orderTaken(merchantUID string) string {
	for _, p := range a.orders[merchantUID] {
		if p.Status == "paid" || p.Status == "cancelled" {
			return "이미 결제가 완료된 merchant_uid입니다."
		}
	}
	if sch, ok := a.schedules[merchantUID]; ok && sch.ScheduleStatus != "revoked" {
		return "이미 예약결제가 등록된 merchant_uid입니다."
	}
	return ""
}

func (p *Payment) clone() Payment {
	c := *p
	c.CancelHistory = append([]CancelHistory{}, p.CancelHistory...)
	c.CancelReceiptURLs = append([]string{}, p.CancelReceiptURLs...)
	return c
}

// nextID returns the next number for imp_uid and friends; s.mu is held.
func (s *Server) nextID() int64 {
	s.seq++
	return s.seq
}

// Payment returns a copy of the payment with this imp_uid, in any account.
func (s *Server) Payment(impUID string) (Payment, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.accounts {
		if p, ok := a.payments[impUID]; ok {
			return p.clone(), true
		}
	}
	return Payment{}, false
}

// PaymentsByOrder returns copies of every attempt recorded for merchantUID,
// in any account, oldest first. A test that must prove "charged exactly
// once" counts the paid ones.
func (s *Server) PaymentsByOrder(merchantUID string) []Payment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Payment
	for _, a := range s.accounts {
		for _, p := range a.orders[merchantUID] {
			out = append(out, p.clone())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// Customer returns a copy of a billing key record of the account impKey.
func (s *Server) Customer(impKey, customerUID string) (Customer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.accounts[impKey]; ok {
		if c, ok := a.customers[customerUID]; ok {
			return *c, true
		}
	}
	return Customer{}, false
}

// receiptURL is a fake receipt address (.invalid never resolves).
func receiptURL(impUID string) NullString {
	return NullString(fmt.Sprintf("https://sandbox.iamport.invalid/receipts/%s", impUID))
}
