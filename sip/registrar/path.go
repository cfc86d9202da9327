package registrar

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// pathOf is the Path of a REGISTER (RFC 3327): the values of its Path
// headers in order, joined as one header value. A proxy in front of the
// device (an edge such as Kamailio) adds itself there, with the address of
// the device's flow; requests to the device then carry it as their Route
// set, so that any node sharing the store reaches the device through the
// proxy that holds its flow.
func pathOf(req *sip.Request) string {
	hs := req.GetHeaders("Path")
	if len(hs) == 0 {
		return ""
	}
	vals := make([]string, 0, len(hs))
	for _, h := range hs {
		if v := strings.TrimSpace(h.Value()); v != "" {
			vals = append(vals, v)
		}
	}
	return strings.Join(vals, ", ")
}

// supportsPath reports whether a request says "Supported: path".
func supportsPath(req *sip.Request) bool {
	for _, h := range req.GetHeaders("Supported") {
		for _, tag := range strings.Split(h.Value(), ",") {
			if strings.EqualFold(strings.TrimSpace(tag), "path") {
				return true
			}
		}
	}
	return false
}

// clientIP is the address failed authentications are counted against:
// the request's source, or, for a request relayed by a trusted proxy (the
// edge every device of a cluster comes through), the address the proxy
// received it from, which the proxy wrote in the Via below its own
// (received, else the sent-by host). Banning the proxy's own address
// would lock out every device behind it.
func (r *Registrar) clientIP(req *sip.Request) string {
	ip := SourceIP(req)
	if len(r.cfg.TrustedProxies) == 0 {
		return ip
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil || !slices.Contains(r.cfg.TrustedProxies, addr.Unmap()) {
		return ip
	}
	vias := req.GetHeaders("Via")
	var hops []*sip.ViaHeader
	for _, h := range vias {
		if v, ok := h.(*sip.ViaHeader); ok {
			hops = append(hops, v)
		}
	}
	if len(hops) < 2 {
		return ip // the proxy's own request (OPTIONS probe)
	}
	client := hops[1]
	if rcv, ok := client.Params.Get("received"); ok && rcv != "" {
		return rcv
	}
	return client.Host
}
