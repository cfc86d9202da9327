package sipserver

import (
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/emiago/sipgo/sip"
)

// badInput handles what reaches the transport before and instead of a
// parsed message: input from blocked sources is dropped unread, and a UDP
// datagram that fails to parse is answered 400 when its Via, From, To,
// Call-ID and CSeq can still be read, so the sender stops retransmitting.
//
// The UDP socket is read by several goroutines (sipgo parses in the reading
// goroutine, so one reader would cap the message rate at one core). Each
// reader has its own udpReader, which the read filter recognises by its
// local address value and in which it records the source of the datagram
// being read. A parse failure is reported without saying which reader saw
// it, so the 400 goes to the one recorded source that the failed request's
// Via names (its address and port, or only its address when the Via asks
// for rport and no other reader is on that address); when none or several
// match, nothing is sent rather than risk telling a third party about
// someone else's request.
type badInput struct {
	count   func()
	blocked func(ip netip.Addr) bool
	udpConn *net.UDPConn
	readers map[net.Addr]*udpReader // by udpReader.local; fixed before serving
	// stateless are the methods answered without a transaction over UDP
	// (HandleStateless); fixed before serving.
	stateless      []statelessRoute
	startStateless sync.Once
	stopOnce       sync.Once
	jobs           chan statelessJob
	handlers       sync.WaitGroup
}

// udpReader is one reading goroutine's view of the shared UDP socket.
type udpReader struct {
	*net.UDPConn
	local *net.UDPAddr // a copy per reader: the filter tells readers apart by it
	mu    sync.Mutex
	last  netip.AddrPort
}

func (r *udpReader) LocalAddr() net.Addr { return r.local }

// newUDPReaders prepares n readers of conn.
func (b *badInput) newUDPReaders(conn *net.UDPConn, n int) []*udpReader {
	b.udpConn = conn
	b.readers = make(map[net.Addr]*udpReader, n)
	rs := make([]*udpReader, n)
	for i := range rs {
		la := *conn.LocalAddr().(*net.UDPAddr)
		rs[i] = &udpReader{UDPConn: conn, local: &la}
		b.readers[rs[i].local] = rs[i]
	}
	return rs
}

func (b *badInput) filter(info sip.TransportReadProps, data []byte) ([]byte, error) {
	if b.blocked != nil {
		var ip netip.Addr
		switch a := info.RemoteAddr.(type) {
		case *net.UDPAddr:
			ip = a.AddrPort().Addr()
		case *net.TCPAddr:
			ip = a.AddrPort().Addr()
		}
		if ip.IsValid() && b.blocked(ip.Unmap()) {
			return nil, nil
		}
	}
	if r := b.readers[info.LocalAddr]; r != nil {
		if ra, ok := info.RemoteAddr.(*net.UDPAddr); ok {
			r.mu.Lock()
			r.last = ra.AddrPort()
			r.mu.Unlock()
		}
		if len(b.stateless) > 0 && b.takeStateless(info, data) {
			return nil, nil
		}
	}
	return data, nil
}

func (b *badInput) parseFailed(udp bool, data string) {
	b.count()
	if !udp || b.udpConn == nil || len(data) > 8192 {
		return
	}
	res := badRequest(data)
	if res == "" {
		return
	}
	if to, ok := b.replyTo(data); ok {
		_, _ = b.udpConn.WriteToUDPAddrPort([]byte(res), to)
	}
}

// replyTo finds where the 400 to a request that did not parse goes.
func (b *badInput) replyTo(raw string) (netip.AddrPort, bool) {
	host, port, rport, ok := topVia(raw)
	if !ok {
		return netip.AddrPort{}, false
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.AddrPort{}, false
	}
	// Candidates: the sources readers are on now with the Via's address;
	// among several (phones behind one NAT), the one on the Via's port.
	var byIP, byPort []netip.AddrPort
	for _, r := range b.readers {
		r.mu.Lock()
		last := r.last
		r.mu.Unlock()
		if last.Addr().Unmap() != ip.Unmap() {
			continue
		}
		if !slices.Contains(byIP, last) {
			byIP = append(byIP, last)
		}
		if int(last.Port()) == port && !slices.Contains(byPort, last) {
			byPort = append(byPort, last)
		}
	}
	switch {
	case len(byPort) == 1:
		return byPort[0], true
	case rport && len(byIP) == 1:
		return byIP[0], true
	}
	return netip.AddrPort{}, false
}

// topVia reads the sent-by of the first Via of a raw message.
func topVia(raw string) (host string, port int, rport bool, ok bool) {
	head, _, _ := strings.Cut(raw, "\r\n\r\n")
	for _, l := range strings.Split(head, "\r\n")[1:] {
		name, value, found := strings.Cut(l, ":")
		if !found {
			continue
		}
		if n := strings.ToLower(strings.TrimSpace(name)); n != "via" && n != "v" {
			continue
		}
		// SIP/2.0/UDP host[:port][;params][, next via]
		value, _, _ = strings.Cut(value, ",")
		fields := strings.Fields(value)
		if len(fields) < 2 || !strings.EqualFold(fields[0], "SIP/2.0/UDP") {
			return "", 0, false, false
		}
		sentBy, params, _ := strings.Cut(strings.Join(fields[1:], ""), ";")
		host, portStr, err := net.SplitHostPort(sentBy)
		if err != nil {
			host, portStr = strings.Trim(sentBy, "[]"), "5060"
		}
		port, err := strconv.Atoi(portStr)
		if err != nil {
			return "", 0, false, false
		}
		for _, p := range strings.Split(params, ";") {
			if k, _, _ := strings.Cut(p, "="); strings.EqualFold(strings.TrimSpace(k), "rport") {
				rport = true
			}
		}
		return host, port, rport, true
	}
	return "", 0, false, false
}

// badRequest builds a 400 response to a request that did not parse, from
// the raw header lines, or returns "" when the mandatory ones are missing.
func badRequest(raw string) string {
	head, _, _ := strings.Cut(raw, "\r\n\r\n")
	lines := strings.Split(head, "\r\n")
	if len(lines) < 2 || strings.HasPrefix(lines[0], "SIP/") || !strings.HasSuffix(lines[0], "SIP/2.0") {
		return "" // a response, or not SIP at all: never answer
	}
	want := map[string]string{"via": "Via", "v": "Via", "from": "From", "f": "From", "to": "To", "t": "To",
		"call-id": "Call-ID", "i": "Call-ID", "cseq": "CSeq"}
	var out []string
	seen := map[string]bool{}
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		canon, ok := want[strings.ToLower(strings.TrimSpace(name))]
		if !ok || strings.ContainsAny(value, "\r\n") {
			continue
		}
		seen[canon] = true
		out = append(out, canon+": "+strings.TrimSpace(value))
	}
	for _, h := range []string{"Via", "From", "To", "Call-ID", "CSeq"} {
		if !seen[h] {
			return ""
		}
	}
	return "SIP/2.0 400 Bad Request\r\n" + strings.Join(out, "\r\n") + "\r\nContent-Length: 0\r\n\r\n"
}
