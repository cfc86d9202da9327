package webhook

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrPrivateAddress is a delivery to an address a tenant may not reach.
var ErrPrivateAddress = errors.New("webhook: destination address not allowed")

var (
	publicClient  = newClient(false)
	privateClient = newClient(true)
)

func defaultClient(allowPrivate bool) *http.Client {
	if allowPrivate {
		return privateClient
	}
	return publicClient
}

// newClient is the deliveries' client. Without allowPrivate it checks
// the address each connection is made to, after name resolution, so that
// neither a URL nor a name that resolves (or rebinds) to an inside
// address reaches one.
func newClient(allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second}
	if !allowPrivate {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %s", ErrPrivateAddress, address)
			}
			if ip := ap.Addr().Unmap(); !publicAddr(ip) {
				return fmt.Errorf("%w: %s", ErrPrivateAddress, ip)
			}
			return nil
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = d.DialContext
	tr.Proxy = nil // a proxy would connect on our behalf, unchecked
	return &http.Client{Timeout: 10 * time.Second, Transport: tr}
}

// publicAddr reports whether ip is an address of the public internet.
func publicAddr(ip netip.Addr) bool {
	return ip.IsGlobalUnicast() && !ip.IsPrivate() && !ip.IsLoopback() && !ip.IsLinkLocalUnicast() &&
		!netip.MustParsePrefix("100.64.0.0/10").Contains(ip) // carrier-grade NAT
}
