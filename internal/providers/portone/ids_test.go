package portone

import (
	"regexp"
	"testing"
)

func TestPaymentIDsOnTheWire(t *testing.T) {
	safe := regexp.MustCompile(`^[A-Za-z0-9]{1,40}$`) // what KPN, KCP and Smartro take
	id := "pay_06h3ezd8j9zb78jpvf27xxcnm4"
	wire := WirePaymentID(id)
	if !safe.MatchString(wire) || OrderID(wire) != id {
		t.Fatalf("%q → %q → %q", id, wire, OrderID(wire))
	}
	// Anything that is not billingd's id shape passes through both ways.
	for _, s := range []string{"pay_outcome", "p-1", "pay06h3ezd8j9zb78jpvf27xxcnm", "pay_06H3EZD8J9ZB78JPVF27XXCNM4", ""} {
		if WirePaymentID(s) != s || OrderID(s) != s {
			t.Errorf("%q changed: %q, %q", s, WirePaymentID(s), OrderID(s))
		}
	}
}
