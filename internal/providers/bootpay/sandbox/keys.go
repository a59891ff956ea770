package sandbox

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
)

// Certificate receipt-id markers (doc.go): the last four hex digits.
const (
	tagExpired     = 0xdead // lookup answers AUTH_EXPIRED
	tagNotVerified = 0x0bad // verification never completed
)

var errPublish = &apiErr{status: http.StatusBadRequest, code: "SUBSCRIBE_PUBLISH_FAILED", msg: "카드 정보를 확인해주세요",
	pgCode: "F113", v1status: http.StatusInternalServerError, v1code: -15005,
	pgData: map[string]any{"ResultCode": "F113", "ResultMsg": "카드번호 오류"}}

// issueKey issues a billing key (REST or window). A card number ending in
// 0004 is refused by the "PG".
func (s *Server) issueKey(a *account, pg, subscriptionID, cardNo string) (billingKey, *apiErr) {
	if strings.HasSuffix(cardNo, "0004") {
		return billingKey{}, errPublish
	}
	if pg == "" {
		pg = "nicepay"
	}
	now := s.Now()
	k := &billingKey{key: s.newID(0x0b11), receiptID: s.newID(0), appID: a.appID, subscriptionID: subscriptionID,
		pg: pg, card: cardFor(cardNo), status: statusKeyIssued, requestedAt: now, publishedAt: now}
	s.mu.Lock()
	s.keys[k.key] = k
	s.keyReceipt[k.receiptID] = k
	s.mu.Unlock()
	return *k, nil
}

func (s *Server) lookupKey(a *account, byReceipt bool, id string) (billingKey, *apiErr) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k := s.keys[id]
	if byReceipt {
		k = s.keyReceipt[id]
	}
	if k == nil || k.appID != a.appID || k.status != statusKeyIssued {
		return billingKey{}, notFound("BILLING_KEY_NOT_FOUND", "빌링키를 찾을 수 없습니다")
	}
	return *k, nil
}

// deleteKey revokes a key. Like Bootpay, it leaves the key's reservations
// alone: they fail when run.
func (s *Server) deleteKey(a *account, key string) (billingKey, *apiErr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.keys[key]
	if k == nil || k.appID != a.appID || k.status != statusKeyIssued {
		return billingKey{}, notFound("BILLING_KEY_NOT_FOUND", "빌링키를 찾을 수 없습니다")
	}
	k.status = statusKeyRevoked
	return *k, nil
}

// cardInput validates REST card fields; messages never echo card data.
func cardInput(no, yy, mm, identity string) *apiErr {
	switch {
	case len(no) < 12 || len(no) > 19 || !allDigits(no):
		return badRequest("CARD_NO_INVALID", "카드번호를 확인해주세요")
	case len(yy) != 2 || !allDigits(yy) || len(mm) != 2 || mm < "01" || mm > "12":
		return badRequest("CARD_EXPIRE_INVALID", "카드 유효기간을 확인해주세요")
	case !allDigits(identity) || (len(identity) != 6 && len(identity) != 10):
		return badRequest("CARD_IDENTITY_INVALID", "생년월일 또는 사업자번호를 확인해주세요")
	}
	return nil
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// identity is a person as the certification window sees them.
type identity struct {
	name, phone, birth, carrier, unique string
	gender                              int
	foreigner                           bool
}

// addCertificate stores a certificate as a completed window would. The
// CI defaults to a value derived from the person (the same person gets the
// same CI across sites); the DI is per site.
func (s *Server) addCertificate(a *account, id identity, expired, notVerified bool) string {
	if id.unique == "" {
		sum := sha256.Sum256([]byte("ci\x00" + id.name + "\x00" + id.phone + "\x00" + id.birth))
		id.unique = base64.StdEncoding.EncodeToString(append(sum[:], sum[:32]...))[:88]
	}
	di := sha256.Sum256([]byte("di\x00" + a.appID + "\x00" + id.unique))
	tag := uint16(0)
	switch {
	case expired:
		tag = tagExpired
	case notVerified:
		tag = tagNotVerified
	}
	now := s.Now()
	c := &certificate{id: s.newID(tag), appID: a.appID, name: id.name, phone: id.phone, birth: id.birth,
		carrier: id.carrier, unique: id.unique, di: base64.StdEncoding.EncodeToString(di[:]), gender: id.gender,
		foreigner: id.foreigner, verified: !notVerified, requestedAt: now}
	if c.verified {
		c.authenticatedAt = now
	}
	s.mu.Lock()
	s.certs[c.id] = c
	s.mu.Unlock()
	return c.id
}

// lookupCertificate applies the markers and the 30-minute lookup window
// (v2 AUTH_EXPIRED).
func (s *Server) lookupCertificate(a *account, id string) (certificate, *apiErr) {
	now := s.Now()
	s.mu.RLock()
	c := s.certs[id]
	s.mu.RUnlock()
	if c == nil || c.appID != a.appID {
		return certificate{}, notFound("RECEIPT_NOT_FOUND", "본인인증 내역을 찾을 수 없습니다")
	}
	if strings.HasSuffix(id, "dead") || (c.verified && now.Sub(c.authenticatedAt) > certLookupLife) {
		return certificate{}, &apiErr{status: http.StatusBadRequest, code: "AUTH_EXPIRED", v1code: -2501,
			msg: "본인인증 조회 가능 시간(30분)이 지났습니다"}
	}
	return *c, nil
}

func (c certificate) v2() map[string]any {
	status := statusWaiting
	data := map[string]any{"tid": "sbx-auth"}
	if c.verified {
		status = statusVerified
		birth := ""
		if len(c.birth) == 8 {
			birth = c.birth[:4] + "-" + c.birth[4:6] + "-" + c.birth[6:] + "T00:00:00+09:00"
		}
		foreigner := 0
		if c.foreigner {
			foreigner = 1
		}
		data = map[string]any{"name": c.name, "phone": c.phone, "unique": c.unique, "di": c.di, "birth": birth,
			"gender": c.gender, "foreigner": foreigner, "carrier": c.carrier, "tid": "sbx-auth"}
	}
	return map[string]any{"receipt_id": c.id, "authenticate_id": "auth_" + c.id, "pg": "다날", "method": "본인인증",
		"method_origin": "본인인증", "method_origin_symbol": "auth", "requested_at": v2Time(c.requestedAt),
		"authenticated_at": v2Time(c.authenticatedAt), "status": status, "status_locale": statusLocale[status],
		"authenticate_data": data}
}

func (c certificate) v1() map[string]any {
	out := map[string]any{"receipt_id": c.id, "order_id": "auth_" + c.id, "pg": "danal", "method": "auth",
		"pg_name": "다날", "method_name": "본인인증", "requested_at": v1Time(c.requestedAt), "status": statusWaiting}
	if c.verified {
		id := map[string]any{"username": c.name, "phone": c.phone, "birth": c.birth, "gender": c.gender,
			"unique": c.unique, "di": c.di, "foreigner": c.foreigner, "carrier": c.carrier}
		out["status"], out["purchased_at"], out["certificate"] = statusPaid, v1Time(c.authenticatedAt), id
	}
	return out
}
