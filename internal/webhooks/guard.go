package webhooks

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/billingd/billingd/internal/billing"
)

// Guard keeps deliveries off networks a merchant must not reach through
// billingd (SSRF): loopback, private, link-local (cloud metadata lives at
// 169.254.169.254), unspecified, multicast and reserved addresses. The
// check runs in the dialer's Control hook, on the address actually being
// connected to after DNS resolution, so a name that resolves differently
// at delivery time (DNS rebinding) is caught too.
//
// It applies in both modes: a test-mode endpoint's responses are shown to
// the merchant (attempts keep a body snippet), so a test key reaching the
// internal network would read it. AllowPrivate (BILLINGD_WEBHOOK_ALLOW_PRIVATE)
// lifts it for development and tests.
type Guard struct {
	AllowPrivate bool
}

// ErrBlockedAddress is a delivery refused by the guard.
var ErrBlockedAddress = errors.New("webhook target address is not allowed (private, loopback, link-local or reserved)")

// blockedPrefixes are ranges netip's predicates do not name.
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT, often internal
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, broadcast
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: may embed a private IPv4
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
}

// Blocked reports whether ip may not be delivered to.
func Blocked(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return true
	}
	for _, p := range blockedPrefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// control is the dialer's Control hook: address is the resolved ip:port.
func (g Guard) control(_, address string, _ syscall.RawConn) error {
	if g.AllowPrivate {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil || Blocked(ap.Addr()) {
		return ErrBlockedAddress
	}
	return nil
}

// CheckURL validates an endpoint URL for mode: the shape rules of
// billing.ValidateWebhookURL and, unless private targets are allowed, no
// literal private address or localhost name. Names are not resolved here
// (DNS can change); the dial-time check is the one that holds.
func (g Guard) CheckURL(mode billing.Mode, raw string) error {
	if _, err := billing.ValidateWebhookURL(mode, raw); err != nil {
		return err
	}
	if g.AllowPrivate {
		return nil
	}
	u, _ := url.Parse(raw)
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return billing.Invalid("url", "url must be reachable from the internet; localhost is not")
	}
	if ip, err := netip.ParseAddr(host); err == nil && Blocked(ip) {
		return billing.Invalid("url", "url must be reachable from the internet; %s is a private, loopback, link-local or reserved address", host)
	}
	return nil
}

// DeliveryTimeout bounds one attempt, connection to last byte.
const DeliveryTimeout = 10 * time.Second

// NewClient returns the HTTP client deliveries are sent with: the guard on
// every dial, no proxy (a proxy would dial for us, past the guard), no
// redirects followed (a 3xx is a failed attempt: a redirect could point
// anywhere), and a 10 s timeout. tlsConfig may be nil (system roots).
func NewClient(g Guard, tlsConfig *tls.Config) *http.Client {
	if tlsConfig == nil {
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second, Control: g.control}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       tlsConfig,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: DeliveryTimeout,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
	}
	return &http.Client{
		Transport:     transport,
		Timeout:       DeliveryTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// describeError is an attempt's error text: the cause without the URL
// (which http.Client repeats, query string and all).
func describeError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, ErrBlockedAddress) {
		return ErrBlockedAddress.Error()
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Sprintf("timeout: no complete answer within %s", DeliveryTimeout)
	}
	return err.Error()
}
