package media

import (
	"math"
	"sync/atomic"
	"time"
)

// rxQuality measures the stream a session receives, as RFC 3550 appendix
// A.1 and A.8 do: packets expected from the sequence numbers and the
// interarrival jitter (the packets received are the session's own count).
// The receive goroutine alone updates it, with no lock and no allocation;
// what the RTCP reporter and Quality read is published in atomics that
// only that goroutine writes: two stores a packet.
type rxQuality struct {
	// Owned by the receive goroutine.
	started   bool
	ssrc      uint32
	baseSeq   int64 // extended sequence number of the first packet of ssrc
	maxSeq    uint16
	cycles    int64 // wrap-arounds of the sequence number, times 65536
	prevExp   int64 // packets expected of the sources before ssrc
	transit   int32 // arrival minus timestamp of the previous audio packet
	hasTrans  bool
	jitter16  int64 // jitter in timestamp units, times 16 (RFC 3550 A.8)
	octetsCur uint64

	// Published after each packet: the extended highest sequence number
	// of ssrc (high 32 bits) and the jitter in timestamp units (low 32
	// bits) in one word, and the datagram bytes received.
	state  atomic.Uint64
	octets atomic.Uint64
	// Published when the source changes: expected = offset + extended
	// highest sequence number.
	offset  atomic.Int64
	srcSSRC atomic.Uint32
}

// snapshot returns the packets expected of the received ones, the
// extended highest sequence number of the current source and the jitter.
// Read while a new source starts, the two words may disagree for a packet:
// fewer expected than received is taken as none lost.
func (q *rxQuality) snapshot(received int64) (expected int64, extMax, jitter uint32) {
	st := q.state.Load()
	extMax, jitter = uint32(st>>32), uint32(st)
	return max(q.offset.Load()+int64(extMax), received), extMax, jitter
}

// maxJitterStep is the largest change in transit time taken as jitter; a
// larger one (a source restarting its timestamps, a long silence of a
// source with discontinuous timestamps) restarts the estimate instead.
const maxJitterStep = 8000 // one second at 8 kHz

// add records one accepted packet. arrival is in engine nanoseconds.
func (q *rxQuality) add(ssrc uint32, seq uint16, ts uint32, payload int, audio bool, arrival int64) {
	if !q.started || ssrc != q.ssrc {
		if q.started {
			q.prevExp += q.cycles + int64(q.maxSeq) - q.baseSeq + 1
		}
		q.started, q.ssrc = true, ssrc
		q.baseSeq, q.maxSeq, q.cycles = int64(seq), seq, 0
		q.hasTrans = false
		q.offset.Store(q.prevExp - q.baseSeq + 1)
		q.srcSSRC.Store(ssrc)
	} else if d := seq - q.maxSeq; d != 0 && d < 0x8000 {
		if seq < q.maxSeq {
			q.cycles += 1 << 16
		}
		q.maxSeq = seq
	}
	if audio {
		// 8 kHz: a timestamp unit is 125 µs.
		t := int32(uint32(arrival/125000) - ts)
		if q.hasTrans {
			d := int64(t - q.transit)
			if d < 0 {
				d = -d
			}
			if d < maxJitterStep {
				q.jitter16 += d - ((q.jitter16 + 8) >> 4)
			}
		}
		q.transit, q.hasTrans = t, true
	}
	q.octetsCur += uint64(payload)
	ext := uint32(q.cycles + int64(q.maxSeq))
	q.state.Store(uint64(ext)<<32 | uint64(uint32(q.jitter16>>4)))
	q.octets.Store(q.octetsCur)
}

// Quality is what a session measured of one leg's audio: the stream it
// received from the far end, and what the far end reported by RTCP of the
// stream it received from the session.
type Quality struct {
	Expected, Received int64 // packets, from the sequence numbers
	// Loss is the share of the expected packets that never arrived (0-1).
	Loss float64
	// Jitter is the RFC 3550 interarrival jitter of the received stream.
	Jitter time.Duration
	// RemoteReports counts the RTCP receiver report blocks the far end
	// sent about this session's stream; RemoteLoss and RemoteJitter are
	// from the last one (RemoteLoss as its cumulative lost over the
	// packets the session had sent).
	RemoteReports int64
	RemoteLoss    float64
	RemoteJitter  time.Duration
	// MOS estimates the listening quality of the leg (1-4.5) from the
	// worse direction; 0 when nothing was received.
	MOS float64
}

// Quality reports the session's measurements; it may be called after
// Close.
func (s *Session) Quality() Quality {
	var out Quality
	out.Received = int64(s.received.Load())
	exp, _, jit := s.rxq.snapshot(out.Received)
	out.Expected = exp
	out.Loss = lossRatio(out.Expected, out.Received)
	out.Jitter = tsUnits(jit)
	r := &s.far
	out.RemoteReports = r.reports.Load()
	if out.RemoteReports > 0 {
		sent := int64(s.sent.Load())
		if lost := r.lost.Load(); sent > 0 && lost > 0 {
			out.RemoteLoss = math.Min(1, float64(lost)/float64(sent))
		}
		out.RemoteJitter = tsUnits(r.jitter.Load())
	}
	if out.Received > 0 {
		out.MOS = EstimateMOS(math.Max(out.Loss, out.RemoteLoss), max(out.Jitter, out.RemoteJitter))
	}
	return out
}

func lossRatio(expected, received int64) float64 {
	if expected <= 0 || received >= expected {
		return 0
	}
	return float64(expected-received) / float64(expected)
}

func tsUnits(u uint32) time.Duration { return time.Duration(u) * 125 * time.Microsecond }

// EstimateMOS turns the loss ratio and jitter of a G.711 stream into an
// estimated mean opinion score with the simplified E-model (ITU-T G.107,
// random loss, Bpl 25.1 for G.711 with concealment): the delay is one frame
// plus a jitter buffer twice the jitter and at least a frame deep.
func EstimateMOS(loss float64, jitter time.Duration) float64 {
	d := float64(20*time.Millisecond+max(20*time.Millisecond, 2*jitter)) / float64(time.Millisecond)
	id := 0.024 * d
	if d > 177.3 {
		id += 0.11 * (d - 177.3)
	}
	ppl := 100 * math.Max(0, math.Min(1, loss))
	r := 93.2 - id - 95*ppl/(ppl+25.1)
	switch {
	case r <= 0:
		return 1
	case r >= 100:
		return 4.5
	}
	return 1 + 0.035*r + r*(r-60)*(100-r)*7e-6
}

// Traffic counts RTP packets and bytes (whole datagrams) a session or the
// engine received and sent.
type Traffic struct {
	PacketsIn, PacketsOut uint64
	BytesIn, BytesOut     uint64
}

func (t *Traffic) add(o Traffic) {
	t.PacketsIn += o.PacketsIn
	t.PacketsOut += o.PacketsOut
	t.BytesIn += o.BytesIn
	t.BytesOut += o.BytesOut
}

func (s *Session) traffic() Traffic {
	return Traffic{PacketsIn: s.received.Load(), PacketsOut: s.sent.Load(), BytesIn: s.rxq.octets.Load(), BytesOut: s.sentBytes.Load()}
}

// Traffic sums the RTP the engine's sessions, open and closed, received
// and sent. Each session counts its own packets; the sum is made only
// here, so no counter is shared between calls on the packet path.
func (e *Engine) Traffic() Traffic {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.ended
	for s := range e.sessions {
		t.add(s.traffic())
	}
	return t
}
