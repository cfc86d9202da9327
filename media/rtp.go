package media

import "encoding/binary"

const (
	rtpHeaderLen = 12
	rtpVersion   = 2

	// maxPacket is the largest RTP packet accepted. The receive buffer is
	// larger so that an SRTP authentication tag can be appended in place.
	maxPacket = 1600
	rxBufLen  = maxPacket + 64
)

// rtpInfo is the part of an RTP header the engine needs, parsed without
// allocation.
type rtpInfo struct {
	marker bool
	pt     uint8
	seq    uint16
	ts     uint32
	ssrc   uint32
	hdrLen int // fixed header + CSRCs + extension
	payEnd int // end of payload (padding removed)
}

// parseRTP validates pkt as an RTP version 2 packet and returns its header
// fields. It rejects RTCP multiplexed on the RTP port (payload types 72-79
// with the marker bit, i.e. packet types 200-207).
func parseRTP(pkt []byte) (h rtpInfo, ok bool) {
	if len(pkt) < rtpHeaderLen || pkt[0]>>6 != rtpVersion {
		return h, false
	}
	if pt := pkt[1]; pt >= 200 && pt <= 207 {
		return h, false
	}
	h.marker = pkt[1]&0x80 != 0
	h.pt = pkt[1] & 0x7f
	h.seq = binary.BigEndian.Uint16(pkt[2:])
	h.ts = binary.BigEndian.Uint32(pkt[4:])
	h.ssrc = binary.BigEndian.Uint32(pkt[8:])
	n := rtpHeaderLen + 4*int(pkt[0]&0x0f)
	if pkt[0]&0x10 != 0 {
		if len(pkt) < n+4 {
			return h, false
		}
		n += 4 + 4*int(binary.BigEndian.Uint16(pkt[n+2:]))
	}
	end := len(pkt)
	if pkt[0]&0x20 != 0 {
		pad := int(pkt[end-1])
		if pad == 0 {
			return h, false
		}
		end -= pad
	}
	if n > end {
		return h, false
	}
	h.hdrLen, h.payEnd = n, end
	return h, true
}

// putRTPHeader writes a 12-byte RTP header (no CSRC, no extension) into b.
func putRTPHeader(b []byte, marker bool, pt uint8, seq uint16, ts, ssrc uint32) {
	_ = b[11]
	b[0] = rtpVersion << 6
	b[1] = pt & 0x7f
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
}
