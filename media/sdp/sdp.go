package sdp

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	psdp "github.com/pion/sdp/v3"
)

// Errors. Parse wraps ErrMalformed; Negotiate returns the others.
var (
	ErrMalformed      = errors.New("sdp: malformed")
	ErrNoAudio        = errors.New("sdp: no RTP audio stream")
	ErrNoCommonCodec  = errors.New("sdp: no common codec")
	ErrNoCommonCrypto = errors.New("sdp: no supported SRTP crypto suite")
	ErrRejected       = errors.New("sdp: audio stream rejected (port 0)")
)

// Transport protocols of the audio m= line.
const (
	ProtoRTP  = "RTP/AVP"
	ProtoSRTP = "RTP/SAVP"
)

// Direction is a stream's direction attribute, from the point of view of
// the side that wrote the SDP.
type Direction string

// The four directions of RFC 3264 §5.1.
const (
	SendRecv Direction = "sendrecv"
	SendOnly Direction = "sendonly"
	RecvOnly Direction = "recvonly"
	Inactive Direction = "inactive"
)

// Reverse returns the direction the other side takes in reply: an offer of
// sendonly is answered recvonly, and so on (RFC 3264 §6.1).
func (d Direction) Reverse() Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	case Inactive:
		return Inactive
	}
	return SendRecv
}

// Sends reports whether the writer of the SDP sends media.
func (d Direction) Sends() bool { return d == SendRecv || d == SendOnly }

// Receives reports whether the writer of the SDP receives media.
func (d Direction) Receives() bool { return d == SendRecv || d == RecvOnly }

// Codec is one RTP payload format of the stream.
type Codec struct {
	Name        string // rtpmap encoding name, e.g. "PCMU", "telephone-event"
	PayloadType uint8
	ClockRate   uint32
	Channels    int    // 0 when not given (mono)
	Fmtp        string // format parameters, if any
}

// Codecs the media engine supports.
var (
	PCMU           = Codec{Name: "PCMU", PayloadType: 0, ClockRate: 8000}
	PCMA           = Codec{Name: "PCMA", PayloadType: 8, ClockRate: 8000}
	TelephoneEvent = Codec{Name: "telephone-event", PayloadType: 101, ClockRate: 8000, Fmtp: "0-16"}
)

// Supported is what the engine can do, in our order of preference.
var Supported = []Codec{PCMU, PCMA, TelephoneEvent}

func (c Codec) String() string { return fmt.Sprintf("%d %s/%d", c.PayloadType, c.Name, c.ClockRate) }

// same reports whether c and o are the same format (payload types aside).
func (c Codec) same(o Codec) bool {
	return strings.EqualFold(c.Name, o.Name) && c.ClockRate == o.ClockRate &&
		max(c.Channels, 1) == max(o.Channels, 1)
}

func (c Codec) isTelephoneEvent() bool { return strings.EqualFold(c.Name, "telephone-event") }

// Crypto is an a=crypto line (RFC 4568).
type Crypto struct {
	Tag   int
	Suite string // e.g. "AES_CM_128_HMAC_SHA1_80"
	Key   string // base64 master key||salt (the inline value, no lifetime/MKI)
	// Params is the rest of the inline key parameter (e.g. "|2^31|1:1"),
	// kept as received.
	Params string
}

// Description is what we need to know of one side's SDP.
type Description struct {
	SessionID      uint64
	SessionVersion uint64

	Addr      netip.Addr // connection address of the audio stream
	Port      int        // RTP port; 0 when the stream is rejected
	Proto     string     // "RTP/AVP", "RTP/SAVP" (or the AVPF variants)
	Codecs    []Codec    // in the writer's order of preference, telephone-event excluded
	DTMF      *Codec     // telephone-event/8000, if offered
	Direction Direction
	Crypto    []Crypto // a=crypto lines of the audio stream
	Ptime     int      // a=ptime in ms, 0 if absent

	audio int      // index of the audio stream among media
	media []stream // every m= line, to mirror them in an answer
}

type stream struct {
	media   string
	protos  []string
	formats []string
}

// Remote returns the address and port to send RTP to.
func (d *Description) Remote() netip.AddrPort { return netip.AddrPortFrom(d.Addr, uint16(d.Port)) }

// Secure reports whether the stream is SRTP (RTP/SAVP or RTP/SAVPF).
func (d *Description) Secure() bool { return strings.Contains(d.Proto, "SAVP") }

// OnHold reports whether the writer does not want to receive media: a
// direction of sendonly or inactive, or the old c=0.0.0.0 convention.
func (d *Description) OnHold() bool {
	return !d.Direction.Receives() || (d.Addr.IsValid() && d.Addr.IsUnspecified())
}

// Parse reads an SDP body. It fails with an error wrapping ErrMalformed
// when the text is not valid SDP, ErrNoAudio when it has no RTP audio
// stream.
func Parse(body []byte) (*Description, error) {
	var sd psdp.SessionDescription
	body, masked := maskMediaTypes(body)
	if err := sd.Unmarshal(body); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	for i, m := range masked {
		if i < len(sd.MediaDescriptions) {
			sd.MediaDescriptions[i].MediaName.Media = m.media
			sd.MediaDescriptions[i].MediaName.Protos = m.protos
		}
	}
	if sd.Origin.NetworkType == "" {
		return nil, fmt.Errorf("%w: no origin (o=) line", ErrMalformed)
	}
	d := &Description{
		SessionID:      sd.Origin.SessionID,
		SessionVersion: sd.Origin.SessionVersion,
		audio:          -1,
	}
	for i, md := range sd.MediaDescriptions {
		d.media = append(d.media, stream{
			media:   md.MediaName.Media,
			protos:  md.MediaName.Protos,
			formats: md.MediaName.Formats,
		})
		// The first active RTP audio stream; a rejected one (port 0) only
		// when there is nothing else.
		if md.MediaName.Media == "audio" && isRTP(md.MediaName.Protos) {
			if d.audio < 0 || (sd.MediaDescriptions[d.audio].MediaName.Port.Value == 0 && md.MediaName.Port.Value != 0) {
				d.audio = i
			}
		}
	}
	if d.audio < 0 {
		return nil, ErrNoAudio
	}
	md := sd.MediaDescriptions[d.audio]
	d.Port = md.MediaName.Port.Value
	d.Proto = strings.Join(md.MediaName.Protos, "/")

	ci := md.ConnectionInformation
	if ci == nil {
		ci = sd.ConnectionInformation
	}
	if ci == nil || ci.Address == nil {
		if d.Port != 0 {
			return nil, fmt.Errorf("%w: no connection address (c=) for the audio stream", ErrMalformed)
		}
	} else {
		addr, err := netip.ParseAddr(ci.Address.Address)
		if err != nil {
			return nil, fmt.Errorf("%w: connection address %q is not an IP address", ErrMalformed, ci.Address.Address)
		}
		if (ci.AddressType == "IP4") != addr.Is4() {
			return nil, fmt.Errorf("%w: connection address %q is not of type %s", ErrMalformed, ci.Address.Address, ci.AddressType)
		}
		d.Addr = addr
	}

	d.Direction = SendRecv
	for _, attrs := range [][]psdp.Attribute{sd.Attributes, md.Attributes} {
		for _, a := range attrs {
			switch dir := Direction(a.Key); dir {
			case SendRecv, SendOnly, RecvOnly, Inactive:
				d.Direction = dir // media level, read last, wins
			}
		}
	}

	rtpmap := map[uint8]Codec{}
	fmtp := map[uint8]string{}
	for _, a := range md.Attributes {
		switch a.Key {
		case "rtpmap":
			if c, ok := parseRtpmap(a.Value); ok {
				rtpmap[c.PayloadType] = c
			}
		case "fmtp":
			if pt, rest, ok := splitPT(a.Value); ok {
				fmtp[pt] = rest
			}
		case "ptime":
			if v, err := strconv.Atoi(strings.TrimSpace(a.Value)); err == nil && v > 0 {
				d.Ptime = v
			}
		case "crypto":
			if c, ok := parseCrypto(a.Value); ok {
				d.Crypto = append(d.Crypto, c)
			}
		}
	}
	for _, f := range md.MediaName.Formats {
		n, err := strconv.ParseUint(f, 10, 7)
		if err != nil {
			return nil, fmt.Errorf("%w: payload type %q", ErrMalformed, f)
		}
		pt := uint8(n)
		c, ok := rtpmap[pt]
		if !ok {
			c, ok = static[pt]
			if !ok {
				c = Codec{PayloadType: pt} // dynamic type without rtpmap: unusable
			}
		}
		c.Fmtp = fmtp[pt]
		if c.isTelephoneEvent() {
			if d.DTMF == nil && c.ClockRate == 8000 {
				dc := c
				d.DTMF = &dc
			}
			continue
		}
		d.Codecs = append(d.Codecs, c)
	}
	return d, nil
}

// pion/sdp refuses an m= line whose media type or transport protocol it does
// not know (RFC 4566 lets new ones be registered): "image" over "udptl",
// which a fax device offers for T.38 next to its audio, among them.
var (
	parsedMediaTypes = []string{"audio", "video", "text", "application", "message"}
	parsedProtos     = []string{"UDP", "RTP", "AVP", "SAVP", "SAVPF", "TLS", "DTLS", "SCTP", "AVPF", "TCP", "MSRP", "BFCP", "UDT", "IX", "MRCPv2", "FEC"}
)

// maskedStream is what an m= line said before maskMediaTypes rewrote it.
type maskedStream struct {
	media  string
	protos []string
}

// maskMediaTypes rewrites, in a copy of body, every m= line pion/sdp would
// refuse into "m=application <port> UDP <formats>", and returns what the
// lines said by m= line index, so that such a stream can be read, and
// refused in the answer under its own name, like any stream we do not handle.
func maskMediaTypes(body []byte) ([]byte, map[int]maskedStream) {
	var masked map[int]maskedStream
	lines := bytes.SplitAfter(body, []byte("\n"))
	n := -1
	for i, l := range lines {
		if !bytes.HasPrefix(l, []byte("m=")) {
			continue
		}
		n++
		end := bytes.TrimRight(l, "\r\n")
		f := strings.Fields(string(end[2:]))
		if len(f) < 3 {
			continue // pion's own error says what is wrong
		}
		protos := strings.Split(f[2], "/")
		known := slices.Contains(parsedMediaTypes, f[0])
		for _, p := range protos {
			known = known && slices.Contains(parsedProtos, p)
		}
		if known {
			continue
		}
		if masked == nil {
			masked = map[int]maskedStream{}
		}
		masked[n] = maskedStream{media: f[0], protos: protos}
		line := "m=application " + f[1] + " UDP"
		for _, format := range f[3:] {
			line += " " + format
		}
		lines[i] = append([]byte(line), l[len(end):]...)
	}
	if masked == nil {
		return body, nil
	}
	return bytes.Join(lines, nil), masked
}

func isRTP(protos []string) bool {
	p := strings.Join(protos, "/")
	return p == "RTP/AVP" || p == "RTP/SAVP" || p == "RTP/AVPF" || p == "RTP/SAVPF"
}

// static holds the RFC 3551 payload types an SDP may use without rtpmap.
var static = map[uint8]Codec{
	0:  {Name: "PCMU", PayloadType: 0, ClockRate: 8000},
	3:  {Name: "GSM", PayloadType: 3, ClockRate: 8000},
	4:  {Name: "G723", PayloadType: 4, ClockRate: 8000},
	8:  {Name: "PCMA", PayloadType: 8, ClockRate: 8000},
	9:  {Name: "G722", PayloadType: 9, ClockRate: 8000},
	13: {Name: "CN", PayloadType: 13, ClockRate: 8000},
	18: {Name: "G729", PayloadType: 18, ClockRate: 8000},
}

func splitPT(v string) (uint8, string, bool) {
	ptStr, rest, _ := strings.Cut(strings.TrimSpace(v), " ")
	n, err := strconv.ParseUint(ptStr, 10, 7)
	if err != nil {
		return 0, "", false
	}
	return uint8(n), strings.TrimSpace(rest), true
}

// parseRtpmap reads "<pt> <name>/<clock>[/<channels>]".
func parseRtpmap(v string) (Codec, bool) {
	pt, rest, ok := splitPT(v)
	if !ok {
		return Codec{}, false
	}
	parts := strings.Split(rest, "/")
	if len(parts) < 2 || parts[0] == "" {
		return Codec{}, false
	}
	clock, err := strconv.ParseUint(parts[1], 10, 32)
	if err != nil {
		return Codec{}, false
	}
	c := Codec{Name: parts[0], PayloadType: pt, ClockRate: uint32(clock)}
	if len(parts) > 2 {
		if ch, err := strconv.Atoi(parts[2]); err == nil {
			c.Channels = ch
		}
	}
	return c, true
}

// parseCrypto reads "<tag> <suite> inline:<key>[|lifetime][|MKI:len][;...] [session params]".
func parseCrypto(v string) (Crypto, bool) {
	f := strings.Fields(v)
	if len(f) < 3 {
		return Crypto{}, false
	}
	tag, err := strconv.Atoi(f[0])
	if err != nil || tag < 0 {
		return Crypto{}, false
	}
	kp, _, _ := strings.Cut(f[2], ";") // first key only
	method, inline, ok := strings.Cut(kp, ":")
	if !ok || method != "inline" {
		return Crypto{}, false
	}
	key, params, _ := strings.Cut(inline, "|")
	if params != "" {
		params = "|" + params
	}
	return Crypto{Tag: tag, Suite: f[1], Key: key, Params: params}, true
}

// keyLen returns the decoded length of a base64 SDES key, or -1.
func keyLen(k string) int {
	if b, err := base64.StdEncoding.DecodeString(k); err == nil {
		return len(b)
	}
	if b, err := base64.RawStdEncoding.DecodeString(k); err == nil {
		return len(b)
	}
	return -1
}
