package b2bua

import (
	"errors"
	"fmt"
	"strings"

	"pbx/media"
	"pbx/media/sdp"
)

// The SDP itself (parsing, writing, codec choice) belongs to media/sdp; this
// file only adapts its results to a leg: policy (SRTP only over TLS), the
// codec kept across re-offers, and media.Session settings.

// errSRTPPolicy: SRTP offered outside TLS, or an answer whose crypto does
// not match our offer. Like every media/sdp error, it ends in 488.
var errSRTPPolicy = errors.New("b2bua: SRTP offered outside TLS or without a usable key")

// notAcceptable reports whether err means the far end's SDP is unusable
// (488 Not Acceptable Here) rather than a failure of ours.
func notAcceptable(err error) bool {
	for _, e := range []error{sdp.ErrMalformed, sdp.ErrNoAudio, sdp.ErrNoCommonCodec, sdp.ErrNoCommonCrypto, sdp.ErrRejected, errSRTPPolicy} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// offerMedia is what we offer on a dialled leg: every codec the engine
// supports, telephone-event, and SDES keys when crypto is set.
func offerMedia(port int, crypto *sdp.Crypto) sdp.Media {
	return sdp.Media{Port: port, Codecs: append([]sdp.Codec(nil), sdp.Supported...), Crypto: crypto}
}

// negotiateOffer chooses the codec for a remote offer, keeping cur (the
// codec in use, if any) when the offer still contains it, so that a
// re-INVITE does not switch a bridged call's codec for nothing.
func negotiateOffer(offer *sdp.Description, cur *sdp.Codec) (*sdp.Negotiated, error) {
	if cur != nil {
		n, err := sdp.Negotiate(offer, []sdp.Codec{*cur, sdp.TelephoneEvent})
		if err == nil || !errors.Is(err, sdp.ErrNoCommonCodec) {
			return n, err
		}
	}
	return sdp.Negotiate(offer, sdp.Supported)
}

// negotiateAnswer checks a remote answer against our offer: a codec we
// offered, and SRTP exactly when we offered it, with the suite we offered.
func negotiateAnswer(ans *sdp.Description, offered sdp.Media) (*sdp.Negotiated, error) {
	n, err := sdp.Negotiate(ans, offered.Codecs)
	if err != nil {
		return nil, err
	}
	switch {
	case offered.Crypto == nil && n.Crypto != nil:
		return nil, fmt.Errorf("%w: RTP/SAVP answer to an RTP/AVP offer", errSRTPPolicy)
	case offered.Crypto != nil && n.Crypto == nil:
		return nil, fmt.Errorf("%w: RTP/AVP answer to an RTP/SAVP offer", errSRTPPolicy)
	case offered.Crypto != nil && n.Crypto.Suite != offered.Crypto.Suite:
		return nil, fmt.Errorf("%w: answered suite %s, offered %s", errSRTPPolicy, n.Crypto.Suite, offered.Crypto.Suite)
	}
	return n, nil
}

// mediaCodec converts a negotiated codec for the media engine.
func mediaCodec(c sdp.Codec) media.Codec {
	return media.Codec{Name: strings.ToUpper(c.Name), PayloadType: c.PayloadType, ClockRate: c.ClockRate}
}

// currentCodec is the audio codec of m (telephone-event aside), or nil.
func currentCodec(m sdp.Media) *sdp.Codec {
	for _, c := range m.Codecs {
		if !strings.EqualFold(c.Name, sdp.TelephoneEvent.Name) {
			return &c
		}
	}
	return nil
}
