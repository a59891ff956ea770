package sandbox

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
)

// Token rules (SPEC getToken; AUTHDOC): a token lives 30 minutes; asking
// again before expiry returns the same token and expiry, except in its last
// minute, when the expiry is pushed out by 5 minutes; after expiry a new
// token is minted. Times are whole seconds on the sandbox clock.
const (
	tokenLife      = 1800
	tokenLastMin   = 60
	tokenExtension = 300
)

type accessToken struct {
	value   string
	acct    *account
	expires int64 // unix seconds
}

type tokenReply struct {
	AccessToken string `json:"access_token"`
	Now         int64  `json:"now"`
	ExpiredAt   int64  `json:"expired_at"`
}

// getToken serves POST /users/getToken (JSON or form body).
func (s *Server) getToken(w http.ResponseWriter, r *http.Request) {
	p, err := readParams(r)
	if err != nil {
		fail(w, http.StatusBadRequest, -1, "요청 본문을 해석할 수 없습니다.")
		return
	}
	key, secret := p.str("imp_key"), p.str("imp_secret")
	if key == "" || secret == "" {
		fail(w, http.StatusBadRequest, -1, "imp_key, imp_secret 파라메터가 누락되었습니다.")
		return
	}
	s.mu.Lock()
	a := s.accounts[key]
	if a == nil || subtle.ConstantTimeCompare([]byte(a.secret), []byte(secret)) != 1 {
		s.mu.Unlock()
		fail(w, http.StatusUnauthorized, -1, "imp_key, imp_secret 인증에 실패하였습니다.")
		return
	}
	now := s.now().Unix()
	t := a.token
	switch {
	case t == nil || now >= t.expires:
		if t != nil {
			delete(s.tokens, t.value)
		}
		t = &accessToken{value: newToken(), acct: a, expires: now + tokenLife}
		a.token = t
		s.tokens[t.value] = t
		s.tokensIssued++
	case t.expires-now < tokenLastMin:
		t.expires += tokenExtension
	}
	rep := tokenReply{AccessToken: t.value, Now: now, ExpiredAt: t.expires}
	s.mu.Unlock()
	ok(w, rep)
}

// authenticate resolves the request's token to its account, or nil. It
// accepts "Authorization: Bearer <t>", a bare "Authorization: <t>" (older
// official clients), and the legacy X-ImpTokenHeader; Authorization wins
// when both are sent. The ?_token= query form is not accepted (UNCONFIRMED).
// s.mu is held.
func (s *Server) authenticate(r *http.Request) *account {
	v := strings.TrimSpace(r.Header.Get("Authorization"))
	if v == "" {
		v = strings.TrimSpace(r.Header.Get("X-ImpTokenHeader"))
	}
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		v = strings.TrimSpace(v[7:])
	}
	t, ok := s.tokens[v]
	if !ok || s.now().Unix() >= t.expires {
		return nil
	}
	return t.acct
}

// newToken returns 40 hex characters, the shape of real tokens.
func newToken() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
