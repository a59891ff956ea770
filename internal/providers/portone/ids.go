package portone

import "strings"

// billingd's payment ids are "pay_" and 26 lowercase letters and digits.
// PortOne takes any paymentId, but PGs behind it do not: KPN and KCP take
// letters and digits only, Smartro at most 40 characters. So the
// underscore is dropped on the wire ("pay" + the 26) and put back on
// every id read from PortOne: both ways are fixed functions of the id,
// so the paymentId is still fixed before the call, and callers only ever
// see billingd's own id. Any other id passes through unchanged.
const (
	orderPrefix = "pay_"
	wirePrefix  = "pay"
	idBodyLen   = 26
)

// WirePaymentID is the paymentId PortOne knows billingd's payment id by.
func WirePaymentID(orderID string) string {
	if body, ok := strings.CutPrefix(orderID, orderPrefix); ok && idBody(body) {
		return wirePrefix + body
	}
	return orderID
}

// OrderID is billingd's payment id for a paymentId read from PortOne.
func OrderID(paymentID string) string {
	if body, ok := strings.CutPrefix(paymentID, wirePrefix); ok && idBody(body) {
		return orderPrefix + body
	}
	return paymentID
}

func idBody(s string) bool {
	if len(s) != idBodyLen {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'a' || r > 'z') {
			return false
		}
	}
	return true
}
