package b2bua

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	psdp "github.com/pion/sdp/v3"

	"pbx/media"
)

// Errors of SDP handling; both end in 488 Not Acceptable Here.
var (
	errBadSDP        = errors.New("b2bua: malformed SDP")
	errNoCommonCodec = errors.New("b2bua: no common codec")
	errSRTPPolicy    = errors.New("b2bua: SRTP offered outside TLS or without a usable key")
)

// Media directions of RFC 3264.
const (
	dirSendRecv = "sendrecv"
	dirSendOnly = "sendonly"
	dirRecvOnly = "recvonly"
	dirInactive = "inactive"
)

// remoteSDP is what we keep of the far end's session description.
type remoteSDP struct {
	addr   netip.AddrPort // where its RTP goes (unspecified address: old-style hold)
	codecs []media.Codec  // the audio codecs we support, in the far end's order
	dtmfPT uint8          // telephone-event/8000 payload type, 0 if none
	dir    string
	secure bool // RTP/SAVP
	crypto []cryptoLine
}

type cryptoLine struct {
	tag   string
	suite string
	key   string // inline value, without "inline:"
}

// parseSDP reads the first audio stream of an offer or answer.
func parseSDP(body []byte) (*remoteSDP, error) {
	if len(body) == 0 {
		return nil, fmt.Errorf("%w: empty body", errBadSDP)
	}
	var sd psdp.SessionDescription
	if err := sd.Unmarshal(body); err != nil {
		return nil, fmt.Errorf("%w: %v", errBadSDP, err)
	}
	var md *psdp.MediaDescription
	for _, m := range sd.MediaDescriptions {
		if m.MediaName.Media == "audio" && m.MediaName.Port.Value != 0 {
			md = m
			break
		}
	}
	if md == nil {
		return nil, fmt.Errorf("%w: no active audio stream", errNoCommonCodec)
	}
	r := &remoteSDP{dir: dirSendRecv}
	conn := sd.ConnectionInformation
	if md.ConnectionInformation != nil {
		conn = md.ConnectionInformation
	}
	if conn == nil || conn.Address == nil {
		return nil, fmt.Errorf("%w: no connection address", errBadSDP)
	}
	ip, err := netip.ParseAddr(conn.Address.Address)
	if err != nil {
		return nil, fmt.Errorf("%w: connection address %q", errBadSDP, conn.Address.Address)
	}
	port := md.MediaName.Port.Value
	if port < 0 || port > 65535 {
		return nil, fmt.Errorf("%w: port %d", errBadSDP, port)
	}
	r.addr = netip.AddrPortFrom(ip.Unmap(), uint16(port))
	proto := strings.Join(md.MediaName.Protos, "/")
	switch proto {
	case "RTP/AVP":
	case "RTP/SAVP":
		r.secure = true
	default:
		return nil, fmt.Errorf("%w: transport %q", errNoCommonCodec, proto)
	}
	rtpmap := map[uint8]string{}
	for _, a := range sd.Attributes {
		if isDir(a.Key) {
			r.dir = a.Key
		}
	}
	for _, a := range md.Attributes {
		switch {
		case isDir(a.Key):
			r.dir = a.Key
		case a.Key == "rtpmap":
			pt, enc, ok := strings.Cut(a.Value, " ")
			n, err := strconv.Atoi(pt)
			if !ok || err != nil || n < 0 || n > 127 {
				return nil, fmt.Errorf("%w: rtpmap %q", errBadSDP, a.Value)
			}
			rtpmap[uint8(n)] = strings.ToLower(enc)
		case a.Key == "crypto":
			f := strings.Fields(a.Value)
			if len(f) >= 3 && strings.HasPrefix(f[2], "inline:") {
				key, _, _ := strings.Cut(strings.TrimPrefix(f[2], "inline:"), "|")
				r.crypto = append(r.crypto, cryptoLine{tag: f[0], suite: f[1], key: key})
			}
		}
	}
	for _, f := range md.MediaName.Formats {
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 || n > 127 {
			return nil, fmt.Errorf("%w: payload type %q", errBadSDP, f)
		}
		pt := uint8(n)
		enc, named := rtpmap[pt]
		switch {
		case pt == 0 && (!named || strings.HasPrefix(enc, "pcmu/8000")):
			r.codecs = append(r.codecs, media.PCMU)
		case pt == 8 && (!named || strings.HasPrefix(enc, "pcma/8000")):
			r.codecs = append(r.codecs, media.PCMA)
		case named && enc == "telephone-event/8000" && r.dtmfPT == 0:
			r.dtmfPT = pt
		}
	}
	if len(r.codecs) == 0 {
		return nil, errNoCommonCodec
	}
	return r, nil
}

func isDir(k string) bool {
	return k == dirSendRecv || k == dirSendOnly || k == dirRecvOnly || k == dirInactive
}

// holding reports whether the far end puts us on hold with this description.
func (r *remoteSDP) holding() bool {
	return r.dir == dirSendOnly || r.dir == dirInactive || !r.addr.Addr().IsValid() || r.addr.Addr().IsUnspecified()
}

// answerDir is our direction in answer to the far end's.
func answerDir(remote string) string {
	switch remote {
	case dirSendOnly:
		return dirRecvOnly
	case dirRecvOnly:
		return dirSendOnly
	case dirInactive:
		return dirInactive
	}
	return dirSendRecv
}

// pickCrypto returns the first offered SDES line with a suite we support.
func (r *remoteSDP) pickCrypto() (cryptoLine, bool) {
	for _, c := range r.crypto {
		if c.suite == media.SuiteAESCM128HMACSHA180 || c.suite == media.SuiteAESCM128HMACSHA132 {
			return c, true
		}
	}
	return cryptoLine{}, false
}

// localSDP is our side of a session description.
type localSDP struct {
	sessID, version uint64
	host            string
	port            int
	codecs          []media.Codec
	dtmfPT          uint8
	dir             string
	crypto          *cryptoLine
}

func (l *localSDP) marshal() []byte {
	var b strings.Builder
	ipv := "IP4"
	if a, err := netip.ParseAddr(l.host); err == nil && a.Is6() {
		ipv = "IP6"
	}
	proto := "RTP/AVP"
	if l.crypto != nil {
		proto = "RTP/SAVP"
	}
	fmt.Fprintf(&b, "v=0\r\no=pbx %d %d IN %s %s\r\ns=pbx\r\nc=IN %s %s\r\nt=0 0\r\nm=audio %d %s", l.sessID, l.version, ipv, l.host, ipv, l.host, l.port, proto)
	for _, c := range l.codecs {
		fmt.Fprintf(&b, " %d", c.PayloadType)
	}
	if l.dtmfPT != 0 {
		fmt.Fprintf(&b, " %d", l.dtmfPT)
	}
	b.WriteString("\r\n")
	for _, c := range l.codecs {
		fmt.Fprintf(&b, "a=rtpmap:%d %s/%d\r\n", c.PayloadType, c.Name, c.ClockRate)
	}
	if l.dtmfPT != 0 {
		fmt.Fprintf(&b, "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-16\r\n", l.dtmfPT, l.dtmfPT)
	}
	if l.crypto != nil {
		fmt.Fprintf(&b, "a=crypto:%s %s inline:%s\r\n", l.crypto.tag, l.crypto.suite, l.crypto.key)
	}
	b.WriteString("a=ptime:20\r\n")
	dir := l.dir
	if dir == "" {
		dir = dirSendRecv
	}
	b.WriteString("a=" + dir + "\r\n")
	return []byte(b.String())
}
