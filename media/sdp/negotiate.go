package sdp

import (
	"fmt"
	"net/netip"
	"strings"
)

// Suites we accept in a=crypto, in our order of preference when we offer.
var Suites = []string{"AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32"}

// Negotiated is the outcome of an offer/answer for our side.
type Negotiated struct {
	Codec           Codec          // payload type as the remote side numbered it
	DTMFPayloadType uint8          // remote telephone-event payload type; 0 if none
	Remote          netip.AddrPort // where to send RTP (unspecified address: hold)
	Direction       Direction      // our direction: the reverse of the remote one
	Crypto          *Crypto        // the remote a=crypto chosen, for RTP/SAVP; nil for RTP/AVP
}

// Negotiate chooses, from a remote offer (or answer), the first codec in
// the remote order that is in supported, and the remote telephone-event
// payload type if supported includes telephone-event. For RTP/SAVP it
// chooses the first a=crypto line with a suite we support. It returns
// ErrRejected for a port of 0, ErrNoCommonCodec or ErrNoCommonCrypto.
func Negotiate(remote *Description, supported []Codec) (*Negotiated, error) {
	if remote.Port == 0 {
		return nil, ErrRejected
	}
	n := &Negotiated{
		Remote:    remote.Remote(),
		Direction: remote.Direction.Reverse(),
	}
	found := false
	for _, c := range remote.Codecs {
		for _, s := range supported {
			if !s.isTelephoneEvent() && c.same(s) {
				n.Codec, found = c, true
				break
			}
		}
		if found {
			break
		}
	}
	if !found {
		return nil, fmt.Errorf("%w: offered %s", ErrNoCommonCodec, codecList(remote.Codecs))
	}
	if remote.DTMF != nil {
		for _, s := range supported {
			if s.isTelephoneEvent() && s.ClockRate == remote.DTMF.ClockRate {
				n.DTMFPayloadType = remote.DTMF.PayloadType
			}
		}
	}
	if remote.Secure() {
		for _, c := range remote.Crypto {
			if supportedSuite(c.Suite) && keyLen(c.Key) == 30 && !strings.Contains(c.Params, ":") {
				cc := c
				n.Crypto = &cc
				break
			}
		}
		if n.Crypto == nil {
			return nil, ErrNoCommonCrypto
		}
	}
	return n, nil
}

func supportedSuite(s string) bool {
	for _, x := range Suites {
		if s == x {
			return true
		}
	}
	return false
}

func codecList(cs []Codec) string {
	if len(cs) == 0 {
		return "nothing"
	}
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.String()
	}
	return strings.Join(names, ", ")
}

// AnswerMedia returns the Media of our answer to the offer n was
// negotiated from: the chosen codec and telephone-event with the offer's
// payload types, our direction, and for SRTP an a=crypto with the offer's
// tag and suite and our key (localKey, from media.GenerateSDESKey).
func (n *Negotiated) AnswerMedia(port int, localKey string) Media {
	m := Media{Port: port, Codecs: []Codec{n.Codec}, Direction: n.Direction}
	if n.DTMFPayloadType != 0 {
		te := TelephoneEvent
		te.PayloadType = n.DTMFPayloadType
		m.Codecs = append(m.Codecs, te)
	}
	if n.Crypto != nil {
		m.Crypto = &Crypto{Tag: n.Crypto.Tag, Suite: n.Crypto.Suite, Key: localKey}
	}
	return m
}
