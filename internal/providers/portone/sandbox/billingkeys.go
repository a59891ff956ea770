package sandbox

import (
	"net/http"
	"regexp"
	"strings"
)

var (
	cardDigits  = regexp.MustCompile(`^[0-9]{13,19}$`)
	expiryYear  = regexp.MustCompile(`^[0-9]{2}$`)
	expiryMonth = regexp.MustCompile(`^(0[1-9]|1[0-2])$`)
)

// refusedCard: a card number ending in 0000 is refused by the PG.
func refusedCard(number string) bool { return strings.HasSuffix(number, "0000") }

// pgRefusal is the PG_PROVIDER error a refused card gets.
func pgRefusal(w http.ResponseWriter) {
	writeJSON(w, http.StatusBadGateway, map[string]string{"type": "PG_PROVIDER", "message": "PG사에서 요청을 거절했습니다.",
		"pgCode": "F113", "pgMessage": "카드 정보가 올바르지 않습니다."})
}

// knownChannel: the sandbox's channels are every key shaped like PortOne's.
func knownChannel(key string) bool {
	return strings.HasPrefix(key, "channel-key-") && len(key) > len("channel-key-")
}

// getBillingKey serves GET /billing-keys/{billingKey}?storeId=.
func (s *Server) getBillingKey(w http.ResponseWriter, r *http.Request, a *account) {
	if !store(w, a, storeIDParam(r)) {
		return
	}
	s.mu.Lock()
	k := a.keys[r.PathValue("billingKey")]
	var out map[string]any
	if k != nil {
		out = k.render()
	}
	s.mu.Unlock()
	if k == nil {
		apiError(w, http.StatusNotFound, "BILLING_KEY_NOT_FOUND", "빌링키가 존재하지 않습니다.")
		return
	}
	writeJSON(w, http.StatusOK, out)
}

type issueInput struct {
	StoreID    string `json:"storeId"`
	ChannelKey string `json:"channelKey"`
	Customer   struct {
		ID   string `json:"id"`
		Name *struct {
			Full string `json:"full"`
		} `json:"name"`
		Email       string `json:"email"`
		PhoneNumber string `json:"phoneNumber"`
	} `json:"customer"`
	Method *struct {
		Card *struct {
			Credential struct {
				Number      string `json:"number"`
				ExpiryYear  string `json:"expiryYear"`
				ExpiryMonth string `json:"expiryMonth"`
			} `json:"credential"`
		} `json:"card"`
	} `json:"method"`
	NoticeURLs []string `json:"noticeUrls"`
}

// issueBillingKey serves POST /billing-keys with card data. The card data
// is checked and masked, never kept.
func (s *Server) issueBillingKey(w http.ResponseWriter, r *http.Request, a *account) {
	var in issueInput
	if err := readBody(r, &in); err != nil {
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "요청 본문을 해석할 수 없습니다.")
		return
	}
	if !store(w, a, in.StoreID) {
		return
	}
	if in.Method == nil || in.Method.Card == nil {
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "method.card가 필요합니다.")
		return
	}
	cred := in.Method.Card.Credential
	switch {
	case in.ChannelKey == "":
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "channelKey 또는 channelGroupId가 필요합니다.")
		return
	case !cardDigits.MatchString(cred.Number) || !expiryYear.MatchString(cred.ExpiryYear) || !expiryMonth.MatchString(cred.ExpiryMonth):
		apiError(w, http.StatusBadRequest, "INVALID_REQUEST", "카드 정보 형식이 올바르지 않습니다.")
		return
	case !knownChannel(in.ChannelKey):
		apiError(w, http.StatusNotFound, "CHANNEL_NOT_FOUND", "요청된 채널이 존재하지 않습니다.")
		return
	case refusedCard(cred.Number):
		pgRefusal(w)
		return
	}
	c := customer{ID: in.Customer.ID, Email: in.Customer.Email, PhoneNumber: in.Customer.PhoneNumber}
	if in.Customer.Name != nil {
		c.Name = in.Customer.Name.Full
	}
	s.mu.Lock()
	k := s.newKey(a, "", "", c, cred.Number, in.ChannelKey)
	issuedAt := stamp(k.issuedAt)
	key := k.key
	s.mu.Unlock()
	s.notify(a, in.NoticeURLs, "BillingKey.Issued", map[string]string{"storeId": a.StoreID, "billingKey": key})
	writeJSON(w, http.StatusOK, map[string]any{
		"billingKeyInfo":          map[string]any{"billingKey": key, "channels": []channel{testChannel(in.ChannelKey)}, "issuedAt": issuedAt},
		"channelSpecificFailures": []any{},
	})
}

// newKey records an issued key; s.mu is held.
func (s *Server) newKey(a *account, issueID, issueName string, c customer, number, channelKey string) *billingKey {
	now := s.now()
	k := &billingKey{key: randomID("billing-key-"), storeID: a.StoreID, issueID: issueID, issueName: issueName,
		status: "ISSUED", customer: c, card: testCard(number), channel: testChannel(channelKey), requestedAt: now, issuedAt: now}
	a.keys[k.key] = k
	if issueID != "" {
		a.issues[issueID] = k
	}
	return k
}

// deleteBillingKey serves DELETE /billing-keys/{billingKey}. A key with
// live schedules is refused: they must be revoked first.
func (s *Server) deleteBillingKey(w http.ResponseWriter, r *http.Request, a *account) {
	if !store(w, a, storeIDParam(r)) {
		return
	}
	s.mu.Lock()
	k := a.keys[r.PathValue("billingKey")]
	var typ, msg string
	switch {
	case k == nil:
		typ, msg = "BILLING_KEY_NOT_FOUND", "빌링키가 존재하지 않습니다."
	case k.status == "DELETED":
		typ, msg = "BILLING_KEY_ALREADY_DELETED", "이미 삭제된 빌링키입니다."
	default:
		for _, sc := range a.schedules {
			if sc.billingKey == k.key && sc.live() {
				typ, msg = "PAYMENT_SCHEDULE_ALREADY_EXISTS", "빌링키에 예약된 결제가 있습니다."
			}
		}
	}
	var deletedAt string
	if typ == "" {
		k.status, k.deletedAt = "DELETED", s.now()
		deletedAt = stamp(k.deletedAt)
	}
	s.mu.Unlock()
	switch typ {
	case "":
		if r.URL.Query().Get("skipWebhook") != "true" {
			s.notify(a, nil, "BillingKey.Deleted", map[string]string{"storeId": a.StoreID, "billingKey": k.key})
		}
		writeJSON(w, http.StatusOK, map[string]string{"deletedAt": deletedAt})
	case "BILLING_KEY_NOT_FOUND":
		apiError(w, http.StatusNotFound, typ, msg)
	default:
		apiError(w, http.StatusConflict, typ, msg)
	}
}

// windowInput is what PortOne.requestIssueBillingKey takes (browser SDK
// names: customer.customerId, customer.fullName), plus the sandbox's own
// cardNumber standing in for what the customer types.
type windowInput struct {
	StoreID          string `json:"storeId"`
	ChannelKey       string `json:"channelKey"`
	BillingKeyMethod string `json:"billingKeyMethod"`
	IssueID          string `json:"issueId"`
	IssueName        string `json:"issueName"`
	Customer         struct {
		CustomerID  string `json:"customerId"`
		FullName    string `json:"fullName"`
		PhoneNumber string `json:"phoneNumber"`
		Email       string `json:"email"`
	} `json:"customer"`
	NoticeURLs []string `json:"noticeUrls"`
	CardNumber string   `json:"cardNumber"`
}

// windowResult is requestIssueBillingKey's result: failed when code is set.
type windowResult struct {
	TransactionType string `json:"transactionType"`
	BillingKey      string `json:"billingKey,omitempty"`
	Code            string `json:"code,omitempty"`
	Message         string `json:"message,omitempty"`
	PGCode          string `json:"pgCode,omitempty"`
	PGMessage       string `json:"pgMessage,omitempty"`
}

const windowTestCard = "4111111111111111"

// windowIssue serves POST /sandbox/window/billing_keys: the outcome of
// PortOne.requestIssueBillingKey, keyed by issueId. The store is named by
// storeId, as in the browser (no secret there). Asking again with an
// issueId already issued returns the same key for the same customer and
// fails for another. 400 for input the SDK would refuse; 200 with a code
// for a card the PG refuses; 200 with the key otherwise. BillingKey.Issued
// goes to noticeUrls (or the console's webhook URL).
func (s *Server) windowIssue(w http.ResponseWriter, r *http.Request) {
	var in windowInput
	fail := func(status int, code, msg string) {
		writeJSON(w, status, windowResult{TransactionType: "ISSUE_BILLING_KEY", Code: code, Message: msg})
	}
	if err := readBody(r, &in); err != nil {
		fail(http.StatusBadRequest, "INVALID_REQUEST", "요청 본문을 해석할 수 없습니다.")
		return
	}
	number := in.CardNumber
	if number == "" {
		number = windowTestCard
	}
	switch {
	case in.StoreID == "" || in.ChannelKey == "" || in.BillingKeyMethod == "":
		fail(http.StatusBadRequest, "INVALID_REQUEST", "storeId, channelKey, billingKeyMethod는 필수입니다.")
		return
	case in.BillingKeyMethod != "CARD":
		fail(http.StatusBadRequest, "INVALID_REQUEST", "sandbox는 billingKeyMethod CARD만 지원합니다.")
		return
	case !knownChannel(in.ChannelKey):
		fail(http.StatusBadRequest, "CHANNEL_NOT_FOUND", "요청된 채널이 존재하지 않습니다.")
		return
	case !cardDigits.MatchString(number):
		fail(http.StatusBadRequest, "INVALID_REQUEST", "카드 번호 형식이 올바르지 않습니다.")
		return
	case refusedCard(number):
		writeJSON(w, http.StatusOK, windowResult{TransactionType: "ISSUE_BILLING_KEY", Code: "FAILURE_TYPE_PG",
			Message: "PG사에서 요청을 거절했습니다.", PGCode: "F113", PGMessage: "카드 정보가 올바르지 않습니다."})
		return
	}
	c := customer{ID: in.Customer.CustomerID, Name: in.Customer.FullName, Email: in.Customer.Email, PhoneNumber: in.Customer.PhoneNumber}
	s.mu.Lock()
	a := s.stores[in.StoreID]
	var key, code string
	switch {
	case a == nil:
		code = "INVALID_REQUEST"
	case in.IssueID != "" && a.issues[in.IssueID] != nil:
		if prev := a.issues[in.IssueID]; prev.customer.ID == c.ID && prev.status == "ISSUED" {
			key = prev.key
		} else {
			code = "ALREADY_ISSUED"
		}
	default:
		key = s.newKey(a, in.IssueID, in.IssueName, c, number, in.ChannelKey).key
	}
	s.mu.Unlock()
	switch code {
	case "INVALID_REQUEST":
		fail(http.StatusBadRequest, code, "등록되지 않은 storeId입니다.")
		return
	case "ALREADY_ISSUED":
		fail(http.StatusConflict, code, "이미 다른 고객에게 발급된 issueId입니다.")
		return
	}
	s.notify(a, in.NoticeURLs, "BillingKey.Issued", map[string]string{"storeId": a.StoreID, "billingKey": key})
	writeJSON(w, http.StatusOK, windowResult{TransactionType: "ISSUE_BILLING_KEY", BillingKey: key})
}
