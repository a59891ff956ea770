package bootpay

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/billingd/billingd/internal/providers"
)

// v1Envelope wraps every v1 reply: status mirrors the HTTP status, code is
// 0 on success and negative on failure, data is the object (or, on a PG
// failure with extra.raw_data, the PG's own reply).
type v1Envelope struct {
	Status  flexInt         `json:"status"`
	Code    flexInt         `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

// v2Error is v2's failure body. v2 has no envelope: success is the bare
// object, failure is detected by the presence of error_code (string
// constants in practice; numbers tolerated).
type v2Error struct {
	ErrorCode   *flexString `json:"error_code"`
	Message     string      `json:"message"`
	PGErrorCode flexString  `json:"pg_error_code"`
}

// Sentinels wrapped beside the Kind for Bootpay conditions callers branch on.
var (
	// ErrCertificateExpired: a certificate is looked up more than 30
	// minutes after verification (v2 AUTH_EXPIRED, v1 code -2501). Kind
	// ErrRejected.
	ErrCertificateExpired = errors.New("bootpay: certificate lookup window has passed")
	// ErrCertificateNotConfirmed: the verification was never completed
	// (v2 AUTH_NOT_CONFIRMED). Kind ErrRejected.
	ErrCertificateNotConfirmed = errors.New("bootpay: certificate not confirmed")
)

// v2 error_code classification. The public catalogue is incomplete
// (reference/bootpay.md §1.2, §13), so the HTTP status decides first and
// these tables only refine it:
//
//   - 5xx is always ErrUnknown, whatever the body says.
//   - 401/403, or a credential/token code below, is ErrAuth.
//   - 404, or a *_NOT_FOUND code, is ErrNotFound on lookups and deletes and
//     ErrRejected elsewhere (an unknown billing key rejects a charge).
//   - On a payment (charge, REST key issuance) a 4xx carrying pg_error_code
//     is ErrDeclined: Bootpay reached the PG and the PG/issuer refused
//     (error_code says at which step, pg_error_code why — vendor guidance
//     for SUBSCRIBE_PUBLISH_FAILED / RC_*_FAILED). declineCodes adds the
//     codes that mean a PG refusal even without pg_error_code.
//   - Every other 4xx is ErrRejected: Bootpay refused before any money
//     could move (bad parameters, duplicate order_id or cancel_id, cancel
//     amount over the balance, PG not configured).
var (
	authCodes = map[string]bool{
		"TOKEN_KEY_INVALID": true, "TOKEN_EXPIRED": true, "TOKEN_NOT_FOUND": true,
		"APP_KEY_NOT_FOUND": true, "APP_SK_NOT_MATCHED": true, "APP_CLIENT_KEY_NOT_FOUND": true,
		"APPLICATION_ID_INVALID": true, "PRIVATE_KEY_INVALID": true,
	}
	declineCodes = map[string]bool{
		"SUBSCRIBE_PAYMENT_FAILED": true, "SUBSCRIBE_PUBLISH_FAILED": true,
		"RC_CONFIRM_FAILED": true,
	}
)

// tokenRefused reports whether Bootpay refused the access token: HTTP 401,
// or a token error code under another status.
func (c *Client) tokenRefused(r reply) bool {
	if r.status == http.StatusUnauthorized {
		return true
	}
	if c.v1 || r.status < 400 || r.status >= 500 {
		return false
	}
	var e v2Error
	return json.Unmarshal(r.body, &e) == nil && e.ErrorCode != nil && strings.HasPrefix(string(*e.ErrorCode), "TOKEN_")
}

// bootpayShaped reports whether body is one of Bootpay's own reply shapes
// (a v1 envelope with a status, or a v2 error with error_code).
func (c *Client) bootpayShaped(body []byte) bool {
	if c.v1 {
		var env struct {
			Status *flexInt `json:"status"`
		}
		return json.Unmarshal(body, &env) == nil && env.Status != nil
	}
	var e v2Error
	return json.Unmarshal(body, &e) == nil && e.ErrorCode != nil
}

// decode turns a reply into out or a classified *providers.Error.
func (c *Client) decode(cl call, r reply, out any) error {
	if c.v1 {
		return c.decodeV1(cl, r, out)
	}
	return c.decodeV2(cl, r, out)
}

func (c *Client) decodeV2(cl call, r reply, out any) error {
	if r.status >= 200 && r.status < 300 {
		var e v2Error
		if err := json.Unmarshal(r.body, &e); err != nil {
			return c.unreadable(cl, r, err)
		}
		if e.ErrorCode != nil {
			return c.v2Failure(cl, r, e, true)
		}
		if out != nil {
			if err := json.Unmarshal(r.body, out); err != nil {
				return c.unreadable(cl, r, err)
			}
		}
		return nil
	}
	var e v2Error
	shaped := json.Unmarshal(r.body, &e) == nil && e.ErrorCode != nil
	return c.v2Failure(cl, r, e, shaped)
}

func (c *Client) v2Failure(cl call, r reply, e v2Error, shaped bool) error {
	var code string
	if e.ErrorCode != nil {
		code = string(*e.ErrorCode)
	}
	msg, pg := e.Message, string(e.PGErrorCode)
	status := r.status
	switch {
	case status >= 500 || (status >= 300 && status < 400):
		return c.fail(cl, providers.ErrUnknown, code, msg, fmt.Errorf("%s %s: HTTP %d", cl.method, cl.route, status))
	case status == http.StatusUnauthorized || status == http.StatusForbidden || authCodes[code]:
		return c.fail(cl, providers.ErrAuth, code, msg, nil)
	case code == "AUTH_EXPIRED":
		return c.fail(cl, providers.ErrRejected, code, msg, ErrCertificateExpired)
	case code == "AUTH_NOT_CONFIRMED":
		return c.fail(cl, providers.ErrRejected, code, msg, ErrCertificateNotConfirmed)
	case status == http.StatusNotFound || strings.HasSuffix(code, "_NOT_FOUND"):
		if cl.notFound {
			return c.fail(cl, providers.ErrNotFound, code, msg, nil)
		}
		return c.fail(cl, providers.ErrRejected, code, msg, nil)
	case !shaped && status >= 200 && status < 300:
		return c.unreadable(cl, r, errors.New("no error_code"))
	case cl.payment && (pg != "" || declineCodes[code]):
		return &providers.Error{Kind: providers.ErrDeclined, Provider: providers.Bootpay, Op: cl.op,
			PGCode: code, PGMessage: clip(msg), Payment: &providers.Payment{FailCode: firstNonEmpty(pg, code), FailReason: msg}}
	default:
		return c.fail(cl, providers.ErrRejected, code, msg, nil)
	}
}

func (c *Client) decodeV1(cl call, r reply, out any) error {
	var env v1Envelope
	if err := json.Unmarshal(r.body, &env); err != nil || (env.Status == 0 && env.Code == 0 && env.Data == nil) {
		// Not an envelope: a proxy page, a truncated body.
		return c.v1Failure(cl, r, v1Envelope{}, false)
	}
	if r.status >= 200 && r.status < 300 && env.Code == 0 {
		if out != nil && !isNull(env.Data) {
			if err := json.Unmarshal(env.Data, out); err != nil {
				return c.unreadable(cl, r, err)
			}
		}
		return nil
	}
	return c.v1Failure(cl, r, env, true)
}

// v1Failure classifies a v1 failure. v1 reports a PG failure as HTTP 500
// with the PG's raw reply in data (reference §1.2, gitbook advance/pg.md);
// the adapter asks for that raw reply (extra.raw_data) on every charge, so
// a 500 *with* PG data on a payment is the PG refusing: ErrDeclined. A 500
// without PG data may be Bootpay failing after the PG approved: ErrUnknown.
func (c *Client) v1Failure(cl call, r reply, env v1Envelope, shaped bool) error {
	code := ""
	if shaped && env.Code != 0 {
		code = strconv.FormatInt(int64(env.Code), 10)
	}
	msg := env.Message
	status := r.status
	pgCode, pgData := v1PGData(env.Data)
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden || env.Status == http.StatusUnauthorized:
		return c.fail(cl, providers.ErrAuth, code, msg, nil)
	case status >= 500 && cl.payment && shaped && pgData:
		return c.declined(cl, code, msg, pgCode)
	case status >= 500 || (status >= 300 && status < 400):
		return c.fail(cl, providers.ErrUnknown, code, msg, fmt.Errorf("%s %s: HTTP %d", cl.method, cl.route, status))
	case status >= 200 && status < 300:
		// A 2xx that is not a success envelope. On a write, do not assume
		// nothing happened.
		if !shaped || cl.write {
			return c.unreadable(cl, r, errors.New("unexpected envelope"))
		}
		return c.fail(cl, providers.ErrRejected, code, msg, nil)
	case code == v1CertificateExpired:
		return c.fail(cl, providers.ErrRejected, code, msg, ErrCertificateExpired)
	case status == http.StatusNotFound || env.Status == http.StatusNotFound:
		if cl.notFound {
			return c.fail(cl, providers.ErrNotFound, code, msg, nil)
		}
		return c.fail(cl, providers.ErrRejected, code, msg, nil)
	case cl.payment && shaped && pgData:
		return c.declined(cl, code, msg, pgCode)
	default:
		return c.fail(cl, providers.ErrRejected, code, msg, nil)
	}
}

// v1CertificateExpired is v1's numeric code for v2's AUTH_EXPIRED: the
// 30-minute certificate lookup window has passed.
const v1CertificateExpired = "-2501"

func (c *Client) declined(cl call, code, msg, pgCode string) *providers.Error {
	return &providers.Error{Kind: providers.ErrDeclined, Provider: providers.Bootpay, Op: cl.op,
		PGCode: code, PGMessage: clip(msg), Payment: &providers.Payment{FailCode: firstNonEmpty(pgCode, code), FailReason: msg}}
}

// v1PGData reports whether data holds a PG's raw reply, and its result
// code (NicePay "ResultCode", KCP "res_cd", …).
func v1PGData(data json.RawMessage) (string, bool) {
	if isNull(data) {
		return "", false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil || len(m) == 0 {
		return "", false
	}
	for _, k := range []string{"ResultCode", "resultCode", "res_cd", "code"} {
		var s flexString
		if v, ok := m[k]; ok && json.Unmarshal(v, &s) == nil && s != "" {
			return string(s), true
		}
	}
	return "", true
}

// unreadable reports a reply that could not be understood. Whatever the
// call, the outcome is unknown.
func (c *Client) unreadable(cl call, r reply, err error) *providers.Error {
	return c.fail(cl, providers.ErrUnknown, "", "reply unreadable", fmt.Errorf("%s %s: HTTP %d: %w", cl.method, cl.route, r.status, err))
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}
