package sandbox

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// Token rules (reference §2): a token lives 30 minutes; asking again within
// 25 minutes of minting returns the same token; after that a new one is
// minted and the old one stays valid until it expires.
const (
	tokenLifetime  = 30 * time.Minute
	tokenReuse     = 25 * time.Minute
	userTokenLife  = time.Hour
	certLookupLife = 30 * time.Minute
)

type accessToken struct {
	value, appID        string
	issuedAt, expiresAt time.Time
}

type userToken struct {
	value, appID, userID      string
	name, email, birth, phone string
	gender                    *int
	expiresAt                 time.Time
}

type ctxKey struct{}

func accountOf(r *http.Request) *account { return r.Context().Value(ctxKey{}).(*account) }

type tokenRequest struct {
	ApplicationID string `json:"application_id"`
	PrivateKey    string `json:"private_key"`
}

// issueToken applies the token rules; it returns nil for bad credentials.
func (s *Server) issueToken(req tokenRequest) *accessToken {
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.accounts[req.ApplicationID]
	if a == nil || subtle.ConstantTimeCompare([]byte(a.privateKey), []byte(req.PrivateKey)) != 1 {
		return nil
	}
	s.tokenRequests.Add(1)
	if t := a.current; t != nil && now.Before(t.issuedAt.Add(tokenReuse)) {
		return t
	}
	for v, t := range s.tokens { // prune: tokens are few and minted at most every 25 min per account
		if !now.Before(t.expiresAt) {
			delete(s.tokens, v)
		}
	}
	t := &accessToken{value: randomHex(32), appID: a.appID, issuedAt: now, expiresAt: now.Add(tokenLifetime)}
	s.tokens[t.value] = t
	a.current = t
	s.tokensIssued.Add(1)
	return t
}

func (s *Server) v2Token(w http.ResponseWriter, r *http.Request) {
	var req tokenRequest
	if e := decode(r, &req); e != nil {
		writeV2Err(w, e)
		return
	}
	t := s.issueToken(req)
	if t == nil {
		writeV2Err(w, &apiErr{status: http.StatusUnauthorized, code: "APP_KEY_NOT_FOUND", msg: "application_id 또는 private_key 값을 확인해주세요"})
		return
	}
	// expire_in is the token's remaining life in seconds: a reused token
	// announces less than 1800.
	writeJSON(w, http.StatusOK, map[string]any{"access_token": t.value, "expire_in": int64(t.expiresAt.Sub(s.Now()) / time.Second)})
}

func (s *Server) v1Token(w http.ResponseWriter, r *http.Request) {
	var req tokenRequest
	if e := decode(r, &req); e != nil {
		writeV1Err(w, e)
		return
	}
	t := s.issueToken(req)
	if t == nil {
		writeV1Err(w, &apiErr{status: http.StatusUnauthorized, v1code: -100, msg: "application_id 또는 private_key 값을 확인해주세요"})
		return
	}
	writeV1(w, map[string]any{"token": t.value, "server_time": s.Now().Unix(), "expired_at": t.expiresAt.Unix()})
}

// auth checks Authorization: v2 "Bearer <token>" (or key-pair "Basic
// base64(application_id:private_key)"), v1 the bare token with no scheme.
// Anything else, or an expired token, is 401.
func (s *Server) auth(version int) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			a := s.authenticate(version, r.Header.Get("Authorization"))
			if a == nil {
				if version == 1 {
					writeV1Err(w, &apiErr{status: http.StatusUnauthorized, v1code: -200, msg: "인증 토큰이 올바르지 않거나 만료되었습니다"})
				} else {
					writeV2Err(w, &apiErr{status: http.StatusUnauthorized, code: "TOKEN_KEY_INVALID", msg: "ACCESS TOKEN 값을 확인해주세요"})
				}
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, a)))
		})
	}
}

func (s *Server) authenticate(version int, h string) *account {
	now := s.Now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	tok := h
	if version == 2 {
		scheme, rest, _ := strings.Cut(h, " ")
		switch strings.ToLower(scheme) {
		case "bearer":
			tok = rest
		case "basic":
			raw, err := base64.StdEncoding.DecodeString(rest)
			if err != nil {
				return nil
			}
			id, key, _ := strings.Cut(string(raw), ":")
			if a := s.accounts[id]; a != nil && subtle.ConstantTimeCompare([]byte(a.privateKey), []byte(key)) == 1 {
				return a
			}
			return nil
		default:
			return nil
		}
	}
	t := s.tokens[tok]
	if tok == "" || t == nil || !now.Before(t.expiresAt) {
		return nil
	}
	return s.accounts[t.appID]
}

type userTokenRequest struct {
	UserID   string       `json:"user_id"`
	Email    string       `json:"email"`
	Username string       `json:"username"` // v2
	Name     string       `json:"name"`     // v1
	Gender   *json.Number `json:"gender"`
	Birth    string       `json:"birth"`
	Phone    string       `json:"phone"`
}

func (s *Server) mintUserToken(a *account, req userTokenRequest, name string) (*userToken, *apiErr) {
	if req.UserID == "" {
		return nil, badRequest("USER_ID_REQUIRED", "user_id 값이 필요합니다")
	}
	ut := &userToken{value: randomHex(12), appID: a.appID, userID: req.UserID, name: name, email: req.Email,
		birth: req.Birth, phone: req.Phone, expiresAt: s.Now().Add(userTokenLife)}
	if req.Gender != nil {
		g, ok := wholeNumber(*req.Gender)
		if !ok || (g != 0 && g != 1 && g != -1) {
			return nil, badRequest("INVALID_PARAMETER", "gender 값은 0, 1 중 하나입니다")
		}
		gi := int(g)
		ut.gender = &gi
	}
	s.mu.Lock()
	s.userTokens[ut.value] = ut
	s.mu.Unlock()
	return ut, nil
}

func (s *Server) v2UserToken(w http.ResponseWriter, r *http.Request) {
	var req userTokenRequest
	if e := decode(r, &req); e != nil {
		writeV2Err(w, e)
		return
	}
	ut, e := s.mintUserToken(accountOf(r), req, req.Username)
	if e != nil {
		writeV2Err(w, e)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user_token": ut.value, "expired_at": v2Time(ut.expiresAt)})
}

func (s *Server) v1UserToken(w http.ResponseWriter, r *http.Request) {
	var req userTokenRequest
	if e := decode(r, &req); e != nil {
		writeV1Err(w, e)
		return
	}
	ut, e := s.mintUserToken(accountOf(r), req, req.Name)
	if e != nil {
		writeV1Err(w, e)
		return
	}
	writeV1(w, map[string]any{"user_token": ut.value, "expired_unixtime": ut.expiresAt.Unix(),
		"expired_localtime": ut.expiresAt.In(kst).Format("2006-01-02 15:04:05 -0700")})
}

// UserTokenInfo is what the sandbox recorded for a user token, so tests can
// check which fields the client actually sent.
type UserTokenInfo struct {
	ApplicationID, UserID, Name, Email, Birth, Phone string
	Gender                                           *int
	ExpiresAt                                        time.Time
}

// LookupUserToken returns what was recorded for a user token.
func (s *Server) LookupUserToken(token string) (UserTokenInfo, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ut := s.userTokens[token]
	if ut == nil {
		return UserTokenInfo{}, false
	}
	return UserTokenInfo{ApplicationID: ut.appID, UserID: ut.userID, Name: ut.name, Email: ut.email, Birth: ut.birth,
		Phone: ut.phone, Gender: ut.gender, ExpiresAt: ut.expiresAt}, true
}
