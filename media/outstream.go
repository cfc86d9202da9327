package media

import (
	"math/rand/v2"
	"sync"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// FrameSamples is the number of samples in one 20 ms frame at 8 kHz.
const FrameSamples = 160

const (
	// maxMisorder is how far behind the stream a relayed packet may be
	// before it is taken as a restart of its source (RFC 3550 A.1).
	maxMisorder = 100
	// srtpRoom is the space kept after a payload for an SRTP tag.
	srtpRoom = 32
)

// feedKind is what currently feeds a session's outgoing stream. At most one
// feeder sends at a time, by priority: an outgoing DTMF event, playback,
// then music, then bridge.
type feedKind uint8

const (
	feedNone feedKind = iota
	feedBridge
	feedMusic
	feedPlay
	feedDTMF
)

// outStream is the sending direction of a session: one SSRC whose sequence
// numbers and timestamps stay continuous whatever feeds it. Every input
// (a relayed source, a playback, a music class) is mapped onto it with a
// sequence and timestamp offset computed when the input changes; the
// marker bit flags that discontinuity.
//
// mu is the only lock on the packet path. It belongs to this session alone;
// in steady state only one goroutine (the bridge peer's receiver, a
// playback or a music stream) takes it.
type outStream struct {
	s    *Session
	ssrc uint32

	mu       sync.Mutex
	bridge   *Bridge
	music    *MusicClass
	play     *Playback
	dtmf     uint64 // id of the DTMF event being sent, 0 if none
	active   feedKind
	activeID uint64

	// Continuity of the stream as sent.
	started bool
	nextSeq uint16
	lastTS  uint32
	lastAt  int64  // engine-monotonic ns when lastTS was sent
	octets  uint64 // payload octets sent, for RTCP sender reports

	// Mapping of the current input onto the stream.
	resync   bool
	srcID    uint64
	srcSSRC  uint32
	srcEpoch uint32
	seqOff   uint16
	tsOff    uint32
	baseSeq  uint16
	guard    bool // baseSeq still bounds acceptable packets

	srtp    *srtp.Context
	srtpHdr rtp.Header
	gen     [rtpHeaderLen + FrameSamples + srtpRoom]byte
	tapBuf  []int16
}

func (o *outStream) init(s *Session) {
	o.s = s
	o.ssrc = randomSSRC()
	o.nextSeq = uint16(rand.Uint32())
	o.lastTS = rand.Uint32()
	o.resync = true
}

// updateLocked recomputes the active feeder after a change.
func (o *outStream) updateLocked() {
	kind, id := feedNone, uint64(0)
	switch {
	case o.dtmf != 0:
		kind, id = feedDTMF, o.dtmf
	case o.play != nil:
		kind, id = feedPlay, o.play.id
	case o.music != nil:
		kind, id = feedMusic, o.music.id
	case o.bridge != nil:
		kind, id = feedBridge, o.bridge.id
	}
	if kind != o.active || id != o.activeID {
		o.active, o.activeID = kind, id
		o.resync = true
	}
}

func (o *outStream) setBridge(b *Bridge) {
	o.mu.Lock()
	o.bridge = b
	o.updateLocked()
	o.mu.Unlock()
}

func (o *outStream) clearBridge(b *Bridge) {
	o.mu.Lock()
	if o.bridge == b {
		o.bridge = nil
		o.updateLocked()
	}
	o.mu.Unlock()
}

func (o *outStream) detachAll() (*Playback, *MusicClass) {
	o.mu.Lock()
	defer o.mu.Unlock()
	p, m := o.play, o.music
	o.play, o.music, o.bridge = nil, nil, nil
	o.updateLocked()
	return p, m
}

// mapLocked maps an input packet's sequence number and timestamp onto the
// stream. ok is false for a packet older than the start of the current
// mapping (a late packet of a previous input).
func (o *outStream) mapLocked(id uint64, ssrc, epoch uint32, seq uint16, ts uint32, marker bool, now int64) (uint16, uint32, bool, bool) {
	if !o.resync && id == o.srcID && ssrc == o.srcSSRC && epoch == o.srcEpoch &&
		int16(seq+o.seqOff-o.nextSeq) < -maxMisorder {
		o.resync = true // the source restarted its sequence
	}
	if o.resync || id != o.srcID || ssrc != o.srcSSRC || epoch != o.srcEpoch {
		// Continue from the last packet sent, advanced by the time that
		// passed (at least one frame), so the far end's jitter buffer
		// sees a plain gap rather than a jump back or a huge leap.
		next := o.lastTS + FrameSamples
		if o.started {
			if el := (now - o.lastAt) / 125000; el > FrameSamples { // 8 kHz: 125 µs a sample
				next = o.lastTS + uint32(el)
			}
		}
		o.seqOff = o.nextSeq - seq
		o.tsOff = next - ts
		o.baseSeq = o.nextSeq
		o.guard = true
		o.srcID, o.srcSSRC, o.srcEpoch = id, ssrc, epoch
		o.resync = false
		marker = true
	}
	oseq := seq + o.seqOff
	if o.guard {
		// Shortly after a change of input, a packet from before it is
		// a late one of the previous input: drop it.
		d := int16(oseq - o.baseSeq)
		if d < 0 {
			return 0, 0, false, false
		}
		if d > maxMisorder {
			o.guard = false
		}
	}
	ots := ts + o.tsOff
	if int16(oseq-o.nextSeq) >= 0 {
		o.nextSeq = oseq + 1
	}
	if !o.started || int32(ots-o.lastTS) > 0 {
		o.lastTS, o.lastAt = ots, now
	}
	o.started = true
	return oseq, ots, marker, true
}

// relay sends a packet received by the bridge peer. pkt holds 12 bytes of
// room for the header followed by the payload, with spare capacity after it
// for an SRTP tag; it belongs to the calling receive goroutine, so
// transcoding happens in place.
func (o *outStream) relay(b *Bridge, pkt []byte, h *rtpInfo, dtmf bool, from codecKind, epoch uint32, now int64) {
	o.mu.Lock()
	if o.active != feedBridge || o.bridge != b {
		o.mu.Unlock()
		return
	}
	cs := o.s.codec.Load()
	var pt uint8
	if dtmf {
		d := o.s.dtmfPT.Load()
		if d == 0 {
			o.mu.Unlock()
			return
		}
		pt = uint8(d)
	} else {
		if !transcode(pkt[rtpHeaderLen:], from, cs.kind) {
			o.mu.Unlock()
			return
		}
		pt = cs.PayloadType
	}
	seq, ts, marker, ok := o.mapLocked(b.id, h.ssrc, epoch, h.seq, h.ts, h.marker, now)
	if ok {
		o.sendLocked(pkt, pt, seq, ts, marker, !dtmf, cs.kind, now)
	}
	o.mu.Unlock()
}

// generated sends one frame of a playback or music stream if that feeder is
// the active one. f belongs to the calling goroutine.
func (o *outStream) generated(kind feedKind, id uint64, f *frame, seq uint16, ts uint32, now int64) {
	o.mu.Lock()
	if o.active != kind || o.activeID != id {
		o.mu.Unlock()
		return
	}
	cs := o.s.codec.Load()
	p := f.payload(cs.kind)
	if len(p) == 0 {
		o.mu.Unlock()
		return
	}
	pkt := o.gen[:rtpHeaderLen+len(p)]
	copy(pkt[rtpHeaderLen:], p)
	seq, ts, marker, ok := o.mapLocked(id, 0, 0, seq, ts, false, now)
	if ok {
		o.sendLocked(pkt, cs.PayloadType, seq, ts, marker, true, cs.kind, now)
	}
	o.mu.Unlock()
}

func (o *outStream) sendLocked(pkt []byte, pt uint8, seq uint16, ts uint32, marker, audio bool, k codecKind, now int64) {
	s := o.s
	putRTPHeader(pkt, marker, pt, seq, ts, o.ssrc)
	if audio {
		if tl := s.taps.Load(); tl != nil {
			if o.tapBuf == nil {
				o.tapBuf = make([]int16, maxPacket)
			}
			runTaps(*tl, Outbound, now, decode(o.tapBuf, pkt[rtpHeaderLen:], k))
		}
	}
	dst := s.dest()
	if dst == nil {
		return
	}
	if o.srtp != nil {
		enc, err := o.srtp.EncryptRTP(pkt, pkt, &o.srtpHdr)
		if err != nil {
			return
		}
		pkt = enc
	}
	if _, err := s.conn.WriteToUDPAddrPort(pkt, *dst); err == nil {
		s.sent.Add(1)
		s.sentBytes.Add(uint64(len(pkt)))
		o.octets += uint64(len(pkt) - rtpHeaderLen)
	}
}
