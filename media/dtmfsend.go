package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// ErrNoDTMF is returned by SendDTMF when no telephone-event payload type
// was negotiated (see SetDTMFPayloadType).
var ErrNoDTMF = errors.New("media: no telephone-event payload type negotiated")

const (
	// DefaultDTMFDuration is the length of an event sent by SendDTMF when
	// none is given.
	DefaultDTMFDuration = 100 * time.Millisecond
	// dtmfVolume is the power of a sent event: -10 dBm0, a usual level.
	dtmfVolume = 10
	// dtmfEndCopies is how many times the end packet is sent (RFC 4733
	// 2.5.1.4 recommends three).
	dtmfEndCopies = 3
)

// SendDTMF sends digit ('0'-'9', '*', '#', 'A'-'D') to the far end as an
// RFC 4733 event lasting d (DefaultDTMFDuration if 0): a packet every 20 ms
// (the first with the marker bit), then the end packet three times, all
// with the event's timestamp, on the session's outgoing stream (same SSRC
// and sequence as its audio). While the event is sent it replaces the
// session's other audio, which resumes afterwards. SendDTMF returns once
// the end packets are sent; calls on one session are serialised.
func (s *Session) SendDTMF(digit rune, d time.Duration) error {
	code := strings.IndexRune(dtmfDigits[:16], digit)
	if code < 0 {
		return fmt.Errorf("media: send dtmf: %q is not a DTMF digit", digit)
	}
	if d == 0 {
		d = DefaultDTMFDuration
	}
	if d < 0 || d > 8*time.Second { // duration field is 16 bits of 1/8 ms
		return fmt.Errorf("media: send dtmf: duration %v out of range", d)
	}
	pt := s.dtmfPT.Load()
	if pt == 0 {
		return ErrNoDTMF
	}
	if s.closed.Load() {
		return ErrClosed
	}
	s.dtmfMu.Lock()
	defer s.dtmfMu.Unlock()

	o := &s.out
	id := s.eng.nextID()
	o.mu.Lock()
	o.dtmf = id
	o.updateLocked()
	o.mu.Unlock()
	defer func() {
		o.mu.Lock()
		o.dtmf = 0
		o.updateLocked()
		o.mu.Unlock()
	}()

	total := int(d / (time.Second / 8000)) // in timestamp units
	seq, ts := uint16(rand.Uint32()), rand.Uint32()
	var pkt [rtpHeaderLen + 4 + srtpRoom]byte
	send := func(dur int, end bool) {
		p := pkt[:rtpHeaderLen+4]
		p[rtpHeaderLen] = byte(code)
		p[rtpHeaderLen+1] = dtmfVolume
		if end {
			p[rtpHeaderLen+1] |= 0x80
		}
		binary.BigEndian.PutUint16(p[rtpHeaderLen+2:], uint16(dur))
		o.mu.Lock()
		if o.active == feedDTMF && o.activeID == id {
			// The first packet starts a new input: mapLocked sets
			// the marker and places the event after what was sent.
			oseq, ots, marker, ok := o.mapLocked(id, 0, 0, seq, ts, false, s.eng.now())
			if ok {
				o.sendLocked(p, uint8(pt), oseq, ots, marker, false, kindOther, 0)
			}
		}
		o.mu.Unlock()
		seq++
	}

	t := time.NewTicker(FrameInterval)
	defer t.Stop()
	// Packet i goes out i*20 ms after the start and covers the event up
	// to the end of its interval.
	for dur := FrameSamples; ; dur += FrameSamples {
		send(min(dur, total), false)
		if dur >= total {
			break
		}
		<-t.C
	}
	<-t.C // the end is reported when the last interval is over
	for range dtmfEndCopies {
		send(total, true)
	}
	return nil
}
