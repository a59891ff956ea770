package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The Standard Webhooks headers.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// Sign returns the webhook-signature value for one message: "v1,<sig>" per
// secret, space-separated, in the order of secrets (current first). Each
// signature is base64 of HMAC-SHA256, keyed with the decoded secret, over
// "{id}.{unix timestamp}.{body}".
func Sign(id string, ts time.Time, body []byte, secrets ...string) (string, error) {
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		key, err := secretKey(s)
		if err != nil {
			return "", err
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id))
		mac.Write([]byte{'.'})
		mac.Write([]byte(strconv.FormatInt(ts.Unix(), 10)))
		mac.Write([]byte{'.'})
		mac.Write(body)
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	return strings.Join(sigs, " "), nil
}

// SetHeaders signs a message and sets the three headers on h.
func SetHeaders(h http.Header, id string, ts time.Time, body []byte, secrets ...string) error {
	sig, err := Sign(id, ts, body, secrets...)
	if err != nil {
		return err
	}
	// Set the lower-case names as written by the spec; Go's canonical
	// form (Webhook-Id) is the same header on the wire to any HTTP/1.1
	// or HTTP/2 receiver.
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, sig)
	return nil
}
