package bootpay

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// CertificateStatus is a certificate's state, normalised.
type CertificateStatus string

const (
	// CertificateVerified: the identity verification completed (v2 status
	// 12; v1 status 1 with a certificate block).
	CertificateVerified CertificateStatus = "verified"
	// CertificateNotVerified: anything else; treat as not done.
	CertificateNotVerified CertificateStatus = "not_verified"
)

// Certificate is an identity verification (본인인증) result. Its identity
// fields are personal data: Certificate's String, Format, GoString and
// LogValue redact them, so printing or logging a Certificate never shows
// them. Read the fields directly to store them (encrypted).
type Certificate struct {
	ReceiptID   string
	Status      CertificateStatus
	StatusCode  int // Bootpay's raw status
	VerifiedAt  time.Time
	RequestedAt time.Time
	PG          string
	Method      string

	// Identity (redacted when printed).
	Name      string
	Phone     string
	Birth     string // YYYYMMDD
	Gender    string // "female", "male" or ""
	Carrier   string
	Foreigner bool
	UniqueID  string // CI: the per-person id used to de-duplicate accounts
	DI        string // per-site id, when Bootpay sends one
}

// Verified reports whether the verification completed.
func (c Certificate) Verified() bool { return c.Status == CertificateVerified }

func (c Certificate) String() string {
	return fmt.Sprintf("bootpay.Certificate{ReceiptID:%s Status:%s VerifiedAt:%s PG:%s Method:%s Identity:[redacted]}",
		c.ReceiptID, c.Status, c.VerifiedAt.Format(time.RFC3339), c.PG, c.Method)
}

// Format makes every verb (%v, %+v, %#v, %s, %q …) print the redacted form.
func (c Certificate) Format(f fmt.State, _ rune) { _, _ = fmt.Fprint(f, c.String()) }

// GoString redacts too.
func (c Certificate) GoString() string { return c.String() }

// LogValue keeps identity out of slog (and zerolog's slog bridge).
func (c Certificate) LogValue() slog.Value {
	return slog.GroupValue(slog.String("receipt_id", c.ReceiptID), slog.String("status", string(c.Status)),
		slog.Time("verified_at", c.VerifiedAt), slog.String("pg", c.PG))
}

// MarshalJSON redacts as well, so a Certificate handed to a JSON logger
// does not leak; code that stores the identity reads the fields.
func (c Certificate) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"receipt_id": c.ReceiptID, "status": c.Status, "verified_at": c.VerifiedAt,
		"pg": c.PG, "method": c.Method, "identity": "[redacted]"})
}

// v2 GET /certificate/{receipt_id}.
type v2Certificate struct {
	ReceiptID        string   `json:"receipt_id"`
	PG               string   `json:"pg"`
	Method           string   `json:"method"`
	AuthenticatedAt  wireTime `json:"authenticated_at"`
	RequestedAt      wireTime `json:"requested_at"`
	Status           flexInt  `json:"status"`
	AuthenticateData struct {
		Name      string     `json:"name"`
		Phone     string     `json:"phone"`
		Unique    string     `json:"unique"`
		DI        string     `json:"di"`
		Birth     flexString `json:"birth"`
		Gender    flexString `json:"gender"`
		Foreigner flexBool   `json:"foreigner"`
		Carrier   string     `json:"carrier"`
	} `json:"authenticate_data"`
}

// v1 GET /certificate/{receipt_id}: identity under "certificate".
type v1Certificate struct {
	ReceiptID   string   `json:"receipt_id"`
	PG          string   `json:"pg"`
	Method      string   `json:"method"`
	Status      *flexInt `json:"status"`
	RequestedAt wireTime `json:"requested_at"`
	PurchasedAt wireTime `json:"purchased_at"`
	Certificate *struct {
		Username  string     `json:"username"`
		Phone     string     `json:"phone"`
		Birth     flexString `json:"birth"`
		Gender    flexString `json:"gender"`
		Unique    string     `json:"unique"`
		DI        string     `json:"di"`
		Foreigner flexBool   `json:"foreigner"`
		Carrier   string     `json:"carrier"`
	} `json:"certificate"`
}

func gender(v flexString) string {
	switch v {
	case "0", "F", "f", "female":
		return "female"
	case "1", "M", "m", "male":
		return "male"
	}
	return ""
}

// Certificate fetches an identity verification by the window's receipt_id:
// GET /certificate/{receipt_id} in both generations. An unknown receipt is
// ErrNotFound; a lookup more than 30 minutes after verification is
// ErrRejected wrapping ErrCertificateExpired (v2 AUTH_EXPIRED). A readable
// certificate that is not complete is returned with Status
// CertificateNotVerified and no error: the caller decides.
func (c *Client) Certificate(ctx context.Context, receiptID string) (Certificate, error) {
	const op = "certificate"
	if receiptID == "" {
		return Certificate{}, c.rejectLocal(op, "receipt id is required")
	}
	cl := call{op: op, method: http.MethodGet, path: "/certificate/" + url.PathEscape(receiptID), route: "/certificate/{receipt_id}", notFound: true}
	if c.v1 {
		var r v1Certificate
		if err := c.send(ctx, cl, &r); err != nil {
			return Certificate{}, err
		}
		out := Certificate{ReceiptID: firstNonEmpty(r.ReceiptID, receiptID), PG: r.PG, Method: r.Method,
			RequestedAt: r.RequestedAt.Time, Status: CertificateNotVerified}
		if r.Status != nil {
			out.StatusCode = int(*r.Status)
		}
		if id := r.Certificate; id != nil {
			out.Name, out.Phone, out.Birth, out.Gender = id.Username, id.Phone, normaliseBirth(string(id.Birth)), gender(id.Gender)
			out.Carrier, out.Foreigner, out.UniqueID, out.DI = id.Carrier, bool(id.Foreigner), id.Unique, id.DI
		}
		// v1 has no documented status on certificates; when present it is
		// the receipt status (1 = done). Without it, a CI means done.
		if out.UniqueID != "" && (r.Status == nil || *r.Status == statusPaid) {
			out.Status, out.VerifiedAt = CertificateVerified, r.PurchasedAt.Time
		}
		return out, nil
	}
	var r v2Certificate
	if err := c.send(ctx, cl, &r); err != nil {
		return Certificate{}, err
	}
	d := r.AuthenticateData
	out := Certificate{ReceiptID: firstNonEmpty(r.ReceiptID, receiptID), StatusCode: int(r.Status), PG: r.PG, Method: r.Method,
		RequestedAt: r.RequestedAt.Time, Status: CertificateNotVerified,
		Name: d.Name, Phone: d.Phone, Birth: normaliseBirth(string(d.Birth)), Gender: gender(d.Gender),
		Carrier: d.Carrier, Foreigner: bool(d.Foreigner), UniqueID: d.Unique, DI: d.DI}
	if r.Status == statusVerified {
		out.Status, out.VerifiedAt = CertificateVerified, r.AuthenticatedAt.Time
	}
	return out, nil
}
