package billing

import (
	"encoding/base32"
	"strings"

	"github.com/google/uuid"
)

// Id prefixes, one per object type, so an id says what it names.
const (
	PrefixMerchant        = "mer_"
	PrefixAPIKey          = "key_"
	PrefixProviderAccount = "pa_"
	PrefixCustomer        = "cus_"
	PrefixBillingKey      = "bk_"
	PrefixPayment         = "pay_"
	PrefixRefund          = "re_"
	PrefixEvent           = "evt_"
	PrefixNotification    = "ntf_"
	PrefixSubscription    = "sub_"
)

// idEncoding is Crockford's base32 alphabet in lower case. Its characters are
// in ascending byte order, so encoded UUIDv7s sort by creation time — lists
// can page newest-first on the primary key alone.
var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewID returns prefix + 26 characters: a UUIDv7 (48-bit millisecond time,
// then randomness) in sortable base32. "pay_" + 26 = 30 characters fits
// Iamport's 40-character merchant_uid.
func NewID(prefix string) string {
	u, err := uuid.NewV7()
	if err != nil {
		// NewV7 fails only when the system's random source does; nothing
		// sensible can continue without randomness.
		panic("billing: uuid: " + err.Error())
	}
	return prefix + idEncoding.EncodeToString(u[:])
}

// ValidID reports whether s looks like an id with the given prefix. Handlers
// use it to answer a malformed id with 404 without asking the database.
func ValidID(prefix, s string) bool {
	body, ok := strings.CutPrefix(s, prefix)
	if !ok || len(body) != 26 {
		return false
	}
	_, err := idEncoding.DecodeString(body)
	return err == nil
}
