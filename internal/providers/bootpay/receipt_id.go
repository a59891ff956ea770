package bootpay

// ValidReceiptID reports whether s has the shape of a Bootpay receipt_id:
// 24 hex digits, an ObjectId (reference/bootpay.md). Webhook receipt
// refuses anything else before it costs a row or a PG call.
func ValidReceiptID(s string) bool {
	if len(s) != 24 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
