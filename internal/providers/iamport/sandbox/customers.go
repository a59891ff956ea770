package sandbox

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// pgRule is what the sandbox knows of one PG (reference §9.2–9.5); it is the
// sandbox's own table, kept apart from billingd's capability table on
// purpose, so a mistake in one is caught by the other.
type pgRule struct {
	rest      bool   // POST /subscribe/customers/{uid} can issue keys
	payMethod string // the window's pay_method
	redirect  bool   // the window always redirects: m_redirect_url required
}

var pgRules = map[string]pgRule{
	"payco":        {payMethod: "card"},
	"chai":         {payMethod: "trans", redirect: true},
	"kakaopay":     {payMethod: "card"},
	"kicc":         {payMethod: "card"},
	"nice":         {rest: true, payMethod: "card"},
	"kcp":          {rest: true, payMethod: "card"},
	"html5_inicis": {rest: true, payMethod: "card"},
	"tosspayments": {rest: true, payMethod: "card"},
	"daou":         {rest: true, payMethod: "card"},
	"ksnet":        {rest: true, payMethod: "card"},
	"nice_v2":      {rest: true, payMethod: "card"},
	"welcome":      {rest: true, payMethod: "card"},
}

// defaultPG is every account's default non-auth PG: a pg parameter that is
// missing or unknown falls back to it (SPEC pg description).
const defaultPG = "nice"

// resolvePG splits "{pg}" or "{pg}.{mid}"; known is false for codes the
// sandbox does not model.
func resolvePG(pg string) (code, mid string, rule pgRule, known bool) {
	code, mid, _ = strings.Cut(pg, ".")
	rule, known = pgRules[code]
	if mid == "" {
		mid = code + "_sandbox_mid"
	}
	return code, mid, rule, known
}

// testCard is the window's default instrument.
const testCard = "4242-4242-4242-4242"

var (
	cardRe   = regexp.MustCompile(`^[0-9]{13,19}$`)
	expiryRe = regexp.MustCompile(`^([0-9]{4})-?(0[1-9]|1[0-2])$`)
	birthRe  = regexp.MustCompile(`^([0-9]{6}|[0-9]{10})$`)
	pwdRe    = regexp.MustCompile(`^[0-9]{2}$`)
)

// apiError is a refusal with Iamport's status, code and message.
type apiError struct {
	status int
	code   int
	msg    string
}

func (e *apiError) write(w http.ResponseWriter) { fail(w, e.status, e.code, e.msg) }

const issueFailed = "카드정보 인증 및 빌키 발급에 실패하였습니다. "

// checkCard validates card input like a PG would. A number ending in 0000
// is always refused (the sandbox's "bad card").
func checkCard(number string) *apiError {
	n := digits(number)
	if !cardRe.MatchString(n) {
		return &apiError{http.StatusOK, -1, issueFailed + "[F113] 유효하지않은 카드번호를 입력하셨습니다."}
	}
	if strings.HasSuffix(n, "0000") {
		return &apiError{http.StatusOK, -1, issueFailed + "[8314] 카드사 인증에 실패하였습니다."}
	}
	return nil
}

// registerCard issues a key over REST from p's card fields; s.mu is held.
func (s *Server) registerCard(a *account, uid string, p params) (*Customer, *apiError) {
	code, mid, rule, known := resolvePG(p.str("pg"))
	if !known {
		code, mid, rule, _ = resolvePG(defaultPG)
	}
	if !rule.rest {
		return nil, &apiError{http.StatusOK, 1, "비인증결제모듈 사용정보를 찾을 수 없습니다."}
	}
	number, expiry := p.str("card_number"), p.str("expiry")
	if number == "" || expiry == "" {
		return nil, &apiError{http.StatusBadRequest, -1, "card_number, expiry 파라메터가 누락되었습니다."}
	}
	now := s.now()
	if e := checkCard(number); e != nil {
		return nil, e
	}
	m := expiryRe.FindStringSubmatch(expiry)
	if m == nil {
		return nil, &apiError{http.StatusOK, -1, issueFailed + "[F112] 유효기간 형식이 올바르지 않습니다."}
	}
	year, _ := strconv.Atoi(m[1])
	month, _ := strconv.Atoi(m[2])
	if !time.Date(year, time.Month(month)+1, 1, 0, 0, 0, 0, time.UTC).After(now) {
		return nil, &apiError{http.StatusOK, -1, issueFailed + "[F112] 유효기간이 지난 카드입니다."}
	}
	if b := p.str("birth"); b != "" && !birthRe.MatchString(b) {
		return nil, &apiError{http.StatusOK, -1, issueFailed + "[F114] 생년월일 또는 사업자번호가 올바르지 않습니다."}
	}
	if pw := p.str("pwd_2digit"); pw != "" && !pwdRe.MatchString(pw) {
		return nil, &apiError{http.StatusOK, -1, issueFailed + "[F115] 비밀번호 앞 2자리가 올바르지 않습니다."}
	}
	c := s.putCustomer(a, uid, code, mid, "card", number)
	c.CustomerID = NullString(p.str("customer_id"))
	c.CustomerName = NullString(p.str("customer_name"))
	c.CustomerTel = NullString(p.str("customer_tel"))
	c.CustomerEmail = NullString(p.str("customer_email"))
	c.CustomerAddr = NullString(p.str("customer_addr"))
	c.CustomerPostcode = NullString(p.str("customer_postcode"))
	return c, nil
}

// putCustomer stores (or overwrites, as Iamport does) a key; s.mu is held.
func (s *Server) putCustomer(a *account, uid, pg, mid, payMethod, number string) *Customer {
	now := s.now().Unix()
	c := &Customer{CustomerUID: uid, PGProvider: pg, PGID: mid, Sandbox: true, Inserted: now, Updated: now, payMethod: payMethod}
	if old, ok := a.customers[uid]; ok {
		c.Inserted = old.Inserted
	}
	if payMethod == "card" {
		name, code := cardIssuer(digits(number))
		credit := 0
		c.CardName, c.CardCode, c.CardNumber, c.CardType = NullString(name), NullString(code), NullString(mask(digits(number))), &credit
	} else {
		c.CardName = NullString(strings.ToUpper(pg))
	}
	a.customers[uid] = c
	return c
}

// mask keeps the first 6 and last 4 digits, as card replies do.
func mask(n string) string {
	if len(n) < 10 {
		return strings.Repeat("*", len(n))
	}
	return n[:6] + strings.Repeat("*", len(n)-10) + n[len(n)-4:]
}

// cardIssuer names a card company from the first digit, deterministically.
func cardIssuer(n string) (name, code string) {
	switch n[0] {
	case '3':
		return "현대카드", "367"
	case '4':
		return "신한카드", "366"
	case '5':
		return "KB국민카드", "381"
	case '9':
		return "BC카드", "361"
	default:
		return "삼성카드", "365"
	}
}

func (s *Server) customerNotFound(w http.ResponseWriter, uid string) {
	s.mu.Lock()
	status := s.notFoundStatus
	s.mu.Unlock()
	fail(w, status, 1, fmt.Sprintf("요청하신 customer_uid(%s)로 등록된 정보를 찾을 수 없습니다.", uid))
}

// getCustomer serves GET /subscribe/customers/{customer_uid}.
func (s *Server) getCustomer(w http.ResponseWriter, r *http.Request, a *account) {
	uid := r.PathValue("customer_uid")
	s.mu.Lock()
	c, found := a.customers[uid]
	var cp Customer
	if found {
		cp = *c
	}
	s.mu.Unlock()
	if !found {
		s.customerNotFound(w, uid)
		return
	}
	ok(w, cp)
}

// getCustomers serves GET /subscribe/customers?customer_uid[]=a&customer_uid[]=b:
// 200 with every key when all exist, 207 with the found ones when some are
// missing, 404 when none is (SPEC).
func (s *Server) getCustomers(w http.ResponseWriter, r *http.Request, a *account) {
	p, _ := readParams(r)
	uids := p.list("customer_uid")
	found := []Customer{}
	s.mu.Lock()
	for _, uid := range uids {
		if c, ok := a.customers[uid]; ok {
			found = append(found, *c)
		}
	}
	s.mu.Unlock()
	switch {
	case len(found) == 0:
		fail(w, http.StatusNotFound, 1, "요청하신 customer_uid로 등록된 정보를 찾을 수 없습니다.")
	case len(found) < len(uids):
		writeJSON(w, http.StatusMultiStatus, envelope{Response: found})
	default:
		ok(w, found)
	}
}

// issueCustomer serves POST /subscribe/customers/{customer_uid}: REST
// issuance, for REST-issuing PGs only.
func (s *Server) issueCustomer(w http.ResponseWriter, r *http.Request, a *account) {
	p, err := readParams(r)
	if err != nil {
		fail(w, http.StatusBadRequest, -1, "요청 본문을 해석할 수 없습니다.")
		return
	}
	s.mu.Lock()
	c, e := s.registerCard(a, r.PathValue("customer_uid"), p)
	var cp Customer
	if c != nil {
		cp = *c
	}
	s.mu.Unlock()
	if e != nil {
		e.write(w)
		return
	}
	ok(w, cp)
}

// deleteCustomer serves DELETE /subscribe/customers/{customer_uid} and
// returns the deleted record. Pending schedules of the key are NOT revoked
// (reference §11.7 is open; the sandbox takes the stricter reading, so the
// caller must unschedule); they fail when they fall due.
func (s *Server) deleteCustomer(w http.ResponseWriter, r *http.Request, a *account) {
	uid := r.PathValue("customer_uid")
	s.mu.Lock()
	c, found := a.customers[uid]
	var cp Customer
	if found {
		cp = *c
		delete(a.customers, uid)
	}
	s.mu.Unlock()
	if !found {
		s.customerNotFound(w, uid)
		return
	}
	ok(w, cp)
}
