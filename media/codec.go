package media

import (
	"fmt"

	"github.com/zaf/g711"
)

// Codec identifies the audio codec of a session's stream as negotiated in SDP.
type Codec struct {
	Name        string // encoding name as in SDP rtpmap: "PCMU", "PCMA"
	PayloadType uint8
	ClockRate   uint32
}

// The static G.711 codecs (RFC 3551).
var (
	PCMU = Codec{Name: "PCMU", PayloadType: 0, ClockRate: 8000}
	PCMA = Codec{Name: "PCMA", PayloadType: 8, ClockRate: 8000}
)

func (c Codec) String() string {
	return fmt.Sprintf("%s/%d (pt %d)", c.Name, c.ClockRate, c.PayloadType)
}

// codecKind is what the engine knows how to encode, decode or transcode.
type codecKind uint8

const (
	kindOther codecKind = iota
	kindPCMU
	kindPCMA
)

// codecState is the immutable value behind a session's atomic codec
// pointer; SetCodec swaps in a new one.
type codecState struct {
	Codec
	kind codecKind
}

func newCodecState(c Codec) (*codecState, error) {
	if c.PayloadType > 127 {
		return nil, fmt.Errorf("media: codec %s: payload type out of range", c)
	}
	if c.ClockRate == 0 {
		c.ClockRate = 8000
	}
	cs := &codecState{Codec: c}
	switch c.Name {
	case "PCMU", "pcmu":
		cs.kind = kindPCMU
	case "PCMA", "pcma":
		cs.kind = kindPCMA
	default:
		return nil, fmt.Errorf("media: codec %s: unsupported (only PCMU and PCMA)", c)
	}
	if c.ClockRate != 8000 {
		return nil, fmt.Errorf("media: codec %s: unsupported clock rate", c)
	}
	return cs, nil
}

// transcode converts a G.711 payload in place. It reports false when the
// pair cannot be converted.
func transcode(p []byte, from, to codecKind) bool {
	switch {
	case from == to:
		return true
	case from == kindPCMU && to == kindPCMA:
		for i, b := range p {
			p[i] = g711.Ulaw2AlawFrame(b)
		}
		return true
	case from == kindPCMA && to == kindPCMU:
		for i, b := range p {
			p[i] = g711.Alaw2UlawFrame(b)
		}
		return true
	}
	return false
}

// decode converts a G.711 payload to linear samples; dst must be at least
// len(p) long. It returns the decoded samples.
func decode(dst []int16, p []byte, k codecKind) []int16 {
	dst = dst[:len(p)]
	switch k {
	case kindPCMU:
		for i, b := range p {
			dst[i] = g711.DecodeUlawFrame(b)
		}
	case kindPCMA:
		for i, b := range p {
			dst[i] = g711.DecodeAlawFrame(b)
		}
	default:
		return dst[:0]
	}
	return dst
}

// encode converts linear samples to a G.711 payload in dst (len(samples)
// bytes) and returns it.
func encode(dst []byte, samples []int16, k codecKind) []byte {
	dst = dst[:len(samples)]
	switch k {
	case kindPCMU:
		for i, s := range samples {
			dst[i] = g711.EncodeUlawFrame(s)
		}
	case kindPCMA:
		for i, s := range samples {
			dst[i] = g711.EncodeAlawFrame(s)
		}
	default:
		return dst[:0]
	}
	return dst
}
