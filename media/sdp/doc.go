// Package sdp owns the SDP offer/answer of a call leg's audio stream (RFC
// 3264, RFC 4566): it reads a remote offer or answer into the few facts
// the media engine needs (address, port, codecs in preference order,
// telephone-event payload type, direction, SDES crypto), chooses the codec,
// and writes our own offers and answers. Parsing and serialisation are done
// by github.com/pion/sdp/v3; this package only interprets.
//
// It knows nothing about SIP or the media engine: the call-control layer
// turns a Negotiated into media.Session settings.
package sdp
