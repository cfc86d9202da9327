package sipserver

import (
	"net"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// badInput handles what reaches the transport before and instead of a
// parsed message: input from blocked sources is dropped unread, and a UDP
// datagram that fails to parse is answered 400 when its Via, From, To,
// Call-ID and CSeq can still be read, so the sender stops retransmitting.
//
// sipgo reads each UDP listener from one goroutine, calling the read filter
// and then the parser (which logs a failure) in that goroutine; the source
// of a datagram that failed to parse is therefore the last one the filter
// saw, and no lock is needed.
type badInput struct {
	count   func()
	blocked func(ip string) bool
	lastUDP struct{ addr net.Addr }
	udpConn net.PacketConn
}

func (b *badInput) filter(info sip.TransportReadProps, data []byte) ([]byte, error) {
	if b.blocked != nil {
		var ip string
		switch a := info.RemoteAddr.(type) {
		case *net.UDPAddr:
			ip = a.IP.String()
		case *net.TCPAddr:
			ip = a.IP.String()
		}
		if ip != "" && b.blocked(ip) {
			return nil, nil
		}
	}
	if info.Transport == "UDP" {
		b.lastUDP.addr = info.RemoteAddr
	}
	return data, nil
}

func (b *badInput) parseFailed(udp bool, data string) {
	b.count()
	if !udp || b.udpConn == nil || b.lastUDP.addr == nil || len(data) > 8192 {
		return
	}
	if res := badRequest(data); res != "" {
		_, _ = b.udpConn.WriteTo([]byte(res), b.lastUDP.addr)
	}
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
