package registrar

import (
	"context"
	"net/netip"
	"time"

	"github.com/emiago/sipgo/sip"

	"pbx/store"
)

// NATStore is what the keepalive needs from the store.
type NATStore interface {
	UDPBindings(ctx context.Context, now time.Time) ([]store.Binding, error)
}

// KeepaliveTargets returns the source addresses of the UDP bindings that sit
// behind a NAT: those whose Contact does not name the address the REGISTER
// came from. The NAT between such a device and us forgets the mapping after
// some idle time (30 s on the worst home routers), and then no call reaches
// the device until its next REGISTER; the softswitch keeps the mapping open
// by sending it a keepalive (cmd/pbx runs this periodically).
func KeepaliveTargets(ctx context.Context, st NATStore, now time.Time) ([]netip.AddrPort, error) {
	bs, err := st.UDPBindings(ctx, now)
	if err != nil {
		return nil, err
	}
	seen := make(map[netip.AddrPort]bool, len(bs))
	var out []netip.AddrPort
	for _, b := range bs {
		src, err := netip.ParseAddrPort(b.Source)
		if err != nil || seen[src] || !behindNAT(b.Contact, src) {
			continue
		}
		seen[src] = true
		out = append(out, src)
	}
	return out, nil
}

// behindNAT reports whether contact names another address than src.
func behindNAT(contact string, src netip.AddrPort) bool {
	var u sip.Uri
	if err := sip.ParseUri(contact, &u); err != nil {
		return true
	}
	port := u.Port
	if port == 0 {
		port = 5060
	}
	ip, err := netip.ParseAddr(u.Host)
	if err != nil {
		return true // a host name: we cannot tell, keep the mapping open
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(port)) != netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
}
