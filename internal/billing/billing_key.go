package billing

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"time"
)

// BillingKeyStatus is where a billing key is in its life:
//
//	pending ──confirm ok──▶ active ──delete──▶ deleted
//	   └──expired / confirm failed──▶ failed
type BillingKeyStatus string

const (
	KeyPending BillingKeyStatus = "pending"
	KeyActive  BillingKeyStatus = "active"
	KeyFailed  BillingKeyStatus = "failed"
	KeyDeleted BillingKeyStatus = "deleted"
)

// IssueMethod is how a key is issued: through the PG's payment window, or
// over REST with card data billingd passes through.
type IssueMethod string

const (
	IssueWindow IssueMethod = "window"
	IssueREST   IssueMethod = "rest"
)

// PendingKeyTTL is how long a window registration may stay pending.
const PendingKeyTTL = time.Hour

// BillingKey is a customer's stored payment method at one PG.
type BillingKey struct {
	ID                string           `json:"id"`
	MerchantID        string           `json:"-"`
	Mode              Mode             `json:"mode"`
	CustomerID        string           `json:"customer_id"`
	ProviderAccountID string           `json:"-"`
	Provider          string           `json:"provider"`
	PG                string           `json:"pg"`
	Method            IssueMethod      `json:"method"`
	Status            BillingKeyStatus `json:"status"`
	// Alias is the name billingd gives the key at the PG (Iamport's
	// customer_uid). It is random, so nobody can guess another's.
	Alias string `json:"customer_uid"`
	// ProviderKey is what a charge names: the alias for Iamport, the
	// PG-issued billing_key for Bootpay. Never shown.
	ProviderKey      string     `json:"-"`
	ClientSecretHash []byte     `json:"-"`
	CardName         *string    `json:"card_name"`
	CardNumber       *string    `json:"card_number"` // masked by the PG
	CardType         *string    `json:"card_type"`
	FailureCode      *string    `json:"failure_code"`
	FailureMessage   *string    `json:"failure_message"`
	IsDefault        bool       `json:"is_default"`
	ExpiresAt        time.Time  `json:"expires_at"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
	ActivatedAt      *time.Time `json:"activated_at"`
	DeletedAt        *time.Time `json:"deleted_at"`
}

// NewBillingKeyAlias returns a fresh PG-side alias: "cuid_" and 32 base32
// characters (160 random bits), well within Iamport's customer_uid limits.
func NewBillingKeyAlias() string {
	return "cuid_" + randomToken(20)
}

// NewClientSecret returns a secret a frontend presents (with a publishable
// key) to confirm one registration, and the hash to store.
func NewClientSecret(keyID string) (string, []byte) {
	secret := keyID + "_secret_" + randomToken(20)
	sum := sha256.Sum256([]byte(secret))
	return secret, sum[:]
}

// CheckClientSecret compares a presented secret with the stored hash in
// constant time.
func (k BillingKey) CheckClientSecret(secret string) bool {
	sum := sha256.Sum256([]byte(secret))
	return len(k.ClientSecretHash) == len(sum) && subtle.ConstantTimeCompare(sum[:], k.ClientSecretHash) == 1
}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("billing: crypto/rand: " + err.Error())
	}
	return idEncoding.EncodeToString(b)
}
