package loadgen

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/zaf/g711"
)

// Media constants: 20 ms PCMU frames and RFC 4733 events.
const (
	FrameDuration = 20 * time.Millisecond
	FrameSamples  = 160
	PCMU          = 0   // payload type of G.711 mu-law
	EventPT       = 101 // payload type offered for telephone-event/8000

	rtpHeaderLen = 12
	// dtmfPackets is how many packets carry a digit (100 ms), the last
	// one with the end bit; dtmfEndRepeats more repeat that end packet.
	dtmfPackets    = 5
	dtmfEndRepeats = 2
	dtmfGapFrames  = 3 // audio frames between two digits
	dtmfDuration   = dtmfPackets * FrameSamples
)

// DTMFDigits maps RFC 4733 event codes 0-15 to their digits.
const DTMFDigits = "0123456789*#ABCD"

// audio is one second of a speech-band signal (two tones under a slow
// envelope) as PCMU frames, shared read-only by every sender.
var audio = func() [50][FrameSamples]byte {
	var out [50][FrameSamples]byte
	for f := range out {
		for i := range FrameSamples {
			n := float64(f*FrameSamples + i)
			env := 0.55 + 0.45*math.Sin(2*math.Pi*n/ClockRate*3)
			v := env * (6000*math.Sin(2*math.Pi*n*440/ClockRate) + 3000*math.Sin(2*math.Pi*n*1230/ClockRate))
			out[f][i] = g711.EncodeUlawFrame(int16(v))
		}
	}
	return out
}()

// mux is a UDP socket shared by many RTP ends: one socket per phone would
// cost a goroutine wake-up per received packet, which at a thousand calls
// is more than the pbx spends relaying it. The pbx sends each leg's audio
// from that leg's own port (symmetric RTP), so the source address of a
// packet names the end it is for.
type mux struct {
	conn  *net.UDPConn
	local netip.AddrPort
	epoch time.Time

	mu   sync.RWMutex
	ends map[netip.AddrPort]*end // by the pbx's address sending to it

	stray atomic.Int64 // datagrams from an address no end expects
	done  chan struct{}
}

func newMux(ip netip.Addr, epoch time.Time) (*mux, error) {
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
	if err != nil {
		return nil, err
	}
	_ = conn.SetReadBuffer(8 << 20)
	_ = conn.SetWriteBuffer(8 << 20)
	m := &mux{conn: conn, local: conn.LocalAddr().(*net.UDPAddr).AddrPort(), epoch: epoch,
		ends: map[netip.AddrPort]*end{}, done: make(chan struct{})}
	go m.readLoop()
	return m, nil
}

// close closes the socket and waits for its reader.
func (m *mux) close() {
	m.conn.Close()
	<-m.done
}

// newEnd returns an end sending and receiving on the mux's socket; it
// receives once bound to the far address with bind.
func (m *mux) newEnd() *end {
	e := &end{m: m, conn: m.conn, local: m.local}
	e.hdr = rtp.Header{Version: 2, PayloadType: PCMU, SequenceNumber: uint16(rand.Uint32()),
		Timestamp: rand.Uint32(), SSRC: rand.Uint32() | 1}
	e.frame = rand.IntN(len(audio))
	return e
}

// bind makes e send to remote and receive what comes from it.
func (m *mux) bind(e *end, remote netip.AddrPort) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if o := m.ends[remote]; o != nil && o != e {
		return fmt.Errorf("loadgen: two calls share the far media address %s", remote)
	}
	e.remote = remote
	m.ends[remote] = e
	return nil
}

func (m *mux) unbind(e *end) {
	m.mu.Lock()
	if m.ends[e.remote] == e {
		delete(m.ends, e.remote)
	}
	m.mu.Unlock()
}

func (m *mux) readLoop() {
	defer close(m.done)
	buf := make([]byte, 1500)
	var h rtp.Header
	for {
		n, from, err := m.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		now := time.Now()
		m.mu.RLock()
		e := m.ends[from]
		m.mu.RUnlock()
		if e == nil {
			m.stray.Add(1)
			continue
		}
		e.rmu.Lock()
		hl, err := h.Unmarshal(buf[:n])
		if err != nil || h.Version != 2 {
			e.rx.other++
		} else {
			e.rx.packet(&h, buf[hl:n], ArrivalUnits(now.Sub(m.epoch)), now)
		}
		e.rmu.Unlock()
	}
}

// end is one phone's RTP end of a call: it sends one stream to the pbx and
// receives the other from it, on a shared socket.
type end struct {
	m     *mux
	conn  *net.UDPConn
	local netip.AddrPort

	// Sender state: written by the scheduler only, once started.
	remote  netip.AddrPort
	hdr     rtp.Header
	buf     [rtpHeaderLen + FrameSamples]byte
	frame   int
	ev      *dtmfEvent
	gap     int
	sent    atomic.Int64
	sendErr atomic.Int64

	dmu    sync.Mutex
	dqueue []byte // digits waiting to be sent

	rmu sync.Mutex
	rx  receiver

	closed atomic.Bool
}

type dtmfEvent struct {
	code    byte
	ts      uint32
	packets int // sent so far
}

// receiver is the measuring side of an end; guarded by end.rmu.
type receiver struct {
	ssrc     uint32
	seq      SeqCounter
	prevExp  int64 // counts of the sources before an SSRC change
	prevRecv int64
	jitter   JitterMeter
	maxJit   float64
	audio    int64
	events   int64 // telephone-event packets
	other    int64 // packets of another payload type, or not RTP
	restarts int64 // SSRC changes
	dtmfTS   uint32
	dtmfOn   bool
	dtmfEnd  bool
	digits   []byte
	badDur   int // digits whose final duration was not the one sent
	last     time.Time
}

// close stops receiving (sending stops when the scheduler drops the end).
func (e *end) close() {
	if e.closed.Swap(true) {
		return
	}
	e.m.unbind(e)
}

func (r *receiver) packet(h *rtp.Header, payload []byte, arrival int64, now time.Time) {
	switch h.PayloadType {
	case PCMU, EventPT:
	default:
		r.other++
		return
	}
	if r.seq.started && h.SSRC != r.ssrc {
		// A new source: keep the counts so far, start the sequence anew.
		r.restarts++
		r.prevExp += r.seq.Expected()
		r.prevRecv += r.seq.Received()
		r.seq = SeqCounter{}
	}
	r.ssrc = h.SSRC
	r.seq.Add(h.SequenceNumber)
	r.last = now
	if h.PayloadType == EventPT {
		r.events++
		r.event(h.Timestamp, payload)
		return
	}
	r.audio++
	r.jitter.Add(arrival, h.Timestamp)
	r.maxJit = max(r.maxJit, r.jitter.Units())
}

// event folds RFC 4733 packets into digits: all packets of an event share
// its timestamp; the first with the end bit completes the digit.
func (r *receiver) event(ts uint32, p []byte) {
	if len(p) < 4 {
		return
	}
	code, endBit, dur := p[0], p[1]&0x80 != 0, uint16(p[2])<<8|uint16(p[3])
	if !r.dtmfOn || ts != r.dtmfTS {
		if r.dtmfOn && !r.dtmfEnd {
			r.digits = append(r.digits, '?') // an event whose end never came
		}
		r.dtmfOn, r.dtmfEnd, r.dtmfTS = true, false, ts
	}
	if endBit && !r.dtmfEnd {
		r.dtmfEnd = true
		d := byte('?')
		if int(code) < len(DTMFDigits) {
			d = DTMFDigits[code]
		}
		r.digits = append(r.digits, d)
		if dur != dtmfDuration {
			r.badDur++
		}
	}
}

// queueDigits asks the sender to send digits as telephone events.
func (e *end) queueDigits(digits string) {
	e.dmu.Lock()
	e.dqueue = append(e.dqueue, digits...)
	e.dmu.Unlock()
}

// sendFrame sends the next 20 ms: an audio frame, or a packet of the
// telephone event in progress. Called by the scheduler only.
func (e *end) sendFrame() {
	if e.closed.Load() {
		return
	}
	h := &e.hdr
	h.SequenceNumber++
	h.Timestamp += FrameSamples
	var n int
	if e.ev == nil && e.gap == 0 {
		e.dmu.Lock()
		for len(e.dqueue) > 0 && e.ev == nil {
			c := e.dqueue[0]
			e.dqueue = e.dqueue[1:]
			for i := range len(DTMFDigits) {
				if DTMFDigits[i] == c {
					e.ev = &dtmfEvent{code: byte(i), ts: h.Timestamp}
				}
			}
		}
		e.dmu.Unlock()
	} else if e.gap > 0 {
		e.gap--
	}
	if ev := e.ev; ev != nil {
		ev.packets++
		dur := min(ev.packets, dtmfPackets) * FrameSamples
		flags := byte(10) // volume -10 dBm0
		if ev.packets >= dtmfPackets {
			flags |= 0x80
		}
		eh := rtp.Header{Version: 2, PayloadType: EventPT, SequenceNumber: h.SequenceNumber, Timestamp: ev.ts,
			SSRC: h.SSRC, Marker: ev.packets == 1}
		hl, err := eh.MarshalTo(e.buf[:])
		if err != nil {
			e.sendErr.Add(1)
			return
		}
		e.buf[hl], e.buf[hl+1], e.buf[hl+2], e.buf[hl+3] = ev.code, flags, byte(dur>>8), byte(dur)
		n = hl + 4
		if ev.packets >= dtmfPackets+dtmfEndRepeats {
			e.ev, e.gap = nil, dtmfGapFrames
		}
	} else {
		hl, err := h.MarshalTo(e.buf[:])
		if err != nil {
			e.sendErr.Add(1)
			return
		}
		copy(e.buf[hl:], audio[e.frame][:])
		e.frame = (e.frame + 1) % len(audio)
		n = hl + FrameSamples
	}
	if _, err := e.conn.WriteToUDPAddrPort(e.buf[:n], e.remote); err != nil {
		e.sendErr.Add(1)
		return
	}
	e.sent.Add(1)
}

// StreamStats is what one receiving end measured of the stream sent to it,
// from the start of the call.
type StreamStats struct {
	Sent      int64 // packets the far phone sent (audio and events)
	Expected  int64 // RFC 3550: from the sequence numbers received
	Received  int64
	Audio     int64 // PCMU packets received
	Events    int64 // telephone-event packets received
	Other     int64 // datagrams of another payload type, or not RTP
	Restarts  int64 // SSRC changes seen
	Jitter    time.Duration
	MaxJitter time.Duration
	Digits    string // telephone events received, in order ('?' for an incomplete one)
	BadDigits int    // digits whose final duration differed from the one sent
	Last      time.Time
}

// Lost is expected minus received.
func (s StreamStats) Lost() int64 { return s.Expected - s.Received }

func (e *end) stats(peerSent int64) StreamStats {
	e.rmu.Lock()
	defer e.rmu.Unlock()
	r := &e.rx
	return StreamStats{Sent: peerSent, Expected: r.prevExp + r.seq.Expected(), Received: r.prevRecv + r.seq.Received(), Audio: r.audio,
		Events: r.events, Other: r.other, Restarts: r.restarts, Jitter: r.jitter.Duration(),
		MaxJitter: time.Duration(r.maxJit * float64(time.Second) / ClockRate), Digits: string(r.digits),
		BadDigits: r.badDur, Last: r.last}
}

// Lag is how late the scheduler woke up for its slots.
type Lag struct {
	Slots   int64         // slots run
	Over2ms int64         // slots that started more than 2 ms late
	Over10  int64         // more than 10 ms (half a frame)
	Max     time.Duration // the latest
	Skipped int64         // slots abandoned because the scheduler fell a frame behind
	Busy    time.Duration // time spent sending
	Elapsed time.Duration // wall time covered
}

// KeepsPace reports whether the scheduler sent on time: no slot skipped,
// under 1% of slots more than 10 ms late.
func (l Lag) KeepsPace() bool {
	return l.Skipped == 0 && (l.Slots == 0 || float64(l.Over10)/float64(l.Slots) < 0.01)
}

// Sub is the lag accumulated between an earlier reading o and l (Max is
// l's: the maximum over the whole run).
func (l Lag) Sub(o Lag) Lag {
	return Lag{Slots: l.Slots - o.Slots, Over2ms: l.Over2ms - o.Over2ms, Over10: l.Over10 - o.Over10, Max: l.Max,
		Skipped: l.Skipped - o.Skipped, Busy: l.Busy - o.Busy, Elapsed: l.Elapsed - o.Elapsed}
}

const slotsPerFrame = 10

// scheduler paces every sending end: each frame period is cut into
// slotsPerFrame slots and each end sends once per period in its slot; the
// ends are spread over shards, one goroutine each.
type scheduler struct {
	shards []*shard
	next   atomic.Uint64
	stop   chan struct{}
	wg     sync.WaitGroup
}

type shard struct {
	mu    sync.Mutex
	wheel [slotsPerFrame][]*end
	lag   Lag
}

func newScheduler(n int) *scheduler {
	s := &scheduler{stop: make(chan struct{})}
	for range max(1, n) {
		sh := &shard{}
		s.shards = append(s.shards, sh)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			sh.run(s.stop)
		}()
	}
	return s
}

func (s *scheduler) close() {
	close(s.stop)
	s.wg.Wait()
}

// add starts sending e; it returns a function that stops it.
func (s *scheduler) add(e *end) func() {
	i := s.next.Add(1)
	sh := s.shards[i%uint64(len(s.shards))]
	slot := int(i/uint64(len(s.shards))) % slotsPerFrame
	sh.mu.Lock()
	sh.wheel[slot] = append(sh.wheel[slot], e)
	sh.mu.Unlock()
	return func() {
		sh.mu.Lock()
		defer sh.mu.Unlock()
		l := sh.wheel[slot]
		for j, x := range l {
			if x == e {
				l[j] = l[len(l)-1]
				l[len(l)-1] = nil
				sh.wheel[slot] = l[:len(l)-1]
				return
			}
		}
	}
}

func (s *scheduler) lag() Lag {
	var out Lag
	for _, sh := range s.shards {
		sh.mu.Lock()
		l := sh.lag
		sh.mu.Unlock()
		out.Slots += l.Slots
		out.Over2ms += l.Over2ms
		out.Over10 += l.Over10
		out.Skipped += l.Skipped
		out.Busy += l.Busy
		out.Max = max(out.Max, l.Max)
		out.Elapsed = max(out.Elapsed, l.Elapsed)
	}
	return out
}

func (sh *shard) run(stop <-chan struct{}) {
	const slot = FrameDuration / slotsPerFrame
	start := time.Now()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for k := int64(0); ; k++ {
		target := start.Add(time.Duration(k) * slot)
		if d := time.Until(target); d > 0 {
			timer.Reset(d)
			select {
			case <-stop:
				return
			case <-timer.C:
			}
		} else {
			select {
			case <-stop:
				return
			default:
			}
		}
		now := time.Now()
		late := now.Sub(target)
		sh.mu.Lock()
		sh.lag.Slots++
		if late > 2*time.Millisecond {
			sh.lag.Over2ms++
		}
		if late > 10*time.Millisecond {
			sh.lag.Over10++
		}
		sh.lag.Max = max(sh.lag.Max, late)
		sh.lag.Elapsed = now.Sub(start)
		if late > FrameDuration {
			// A whole frame behind: give up these slots rather than send
			// a burst, and say so.
			skip := int64(late / slot)
			sh.lag.Skipped += skip
			k += skip
			sh.mu.Unlock()
			continue
		}
		for _, e := range sh.wheel[int(k%slotsPerFrame)] {
			e.sendFrame()
		}
		sh.lag.Busy += time.Since(now)
		sh.mu.Unlock()
	}
}
