package iamport

import "regexp"

// paymentID is the shape of an imp_uid: "imp_" and digits
// (imp_448280090638), "imps_" for scheduled payments (reference/iamport.md).
var paymentID = regexp.MustCompile(`^imps?_[0-9]{1,24}$`)

// ValidPaymentID reports whether s has the shape of an Iamport imp_uid.
// Webhook receipt refuses anything else before it costs a row or a PG call.
func ValidPaymentID(s string) bool { return paymentID.MatchString(s) }
