package media

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// Direction tells a tap which way audio flows.
type Direction uint8

const (
	// Inbound is audio received from the far end of the session.
	Inbound Direction = iota + 1
	// Outbound is audio sent to the far end of the session.
	Outbound
)

func (d Direction) String() string {
	switch d {
	case Inbound:
		return "inbound"
	case Outbound:
		return "outbound"
	}
	return fmt.Sprintf("Direction(%d)", uint8(d))
}

// SessionStats counts packets of one session.
type SessionStats struct {
	Received uint64 // valid RTP packets accepted from the far end
	Ignored  uint64 // packets dropped: not RTP, unexpected payload type, other source, SRTP failure
	Sent     uint64 // RTP packets written to the far end
}

// Session is one leg's media: an RTP socket (and the RTCP one above it),
// the far end's address, the negotiated codec, and what is sent to the far
// end (bridge, playback or music).
//
// Methods are safe for concurrent use. Callbacks (OnDTMF, AddTap,
// OnInactive) run on engine goroutines and must not block.
type Session struct {
	eng   *Engine
	id    uint64
	conn  *net.UDPConn
	rtcp  *net.UDPConn
	port  int
	local netip.AddrPort

	codec   atomic.Pointer[codecState]
	dtmfPT  atomic.Uint32 // 0: no telephone-event
	remote  atomic.Pointer[netip.AddrPort]
	latched atomic.Pointer[netip.AddrPort]
	srtpIn  atomic.Pointer[srtp.Context]
	link    atomic.Pointer[bridgeEnd]
	onDTMF  atomic.Pointer[func(rune)]
	taps    atomic.Pointer[[]*tapEntry] // immutable; nil when none
	tapMu   sync.Mutex                  // serialises changes to taps
	dtmfMu  sync.Mutex                  // serialises SendDTMF
	lastRx  atomic.Int64                // engine-monotonic ns of the last accepted packet

	received, ignored, sent atomic.Uint64
	sentBytes               atomic.Uint64 // datagram bytes of sent
	rtcpSent                atomic.Int64

	rxq    rxQuality  // written by the receive goroutine only
	far    farReports // written by the RTCP reporter only
	rtcpSt rtcpState  // owned by the RTCP reporter

	out outStream

	// Owned by the receive goroutine.
	rx         [rxBufLen]byte
	rxHdr      rtp.Header // scratch for SRTP
	rxTap      []int16
	rxEpoch    uint32 // bumped at each latch: receivers resynchronise
	dtmf       dtmfState
	inCallback atomic.Bool
	readDone   chan struct{}

	// mu guards control state; never taken per packet.
	mu           sync.Mutex
	closed       atomic.Bool // written under mu
	setTapRemove func()
	watch        *inactivityWatch
	expect       bool
	bridge       *Bridge // guarded by eng.bridgeMu
}

// NewSession binds a port pair and starts receiving. The codec defaults to
// PCMU with no telephone-event payload type until SetCodec and
// SetDTMFPayloadType are called.
func (e *Engine) NewSession() (*Session, error) {
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	conn, rtcp, port, err := e.listenPair()
	if err != nil {
		return nil, err
	}
	s := &Session{
		eng:      e,
		id:       e.nextID(),
		conn:     conn,
		rtcp:     rtcp,
		port:     port,
		local:    netip.AddrPortFrom(e.cfg.BindIP, uint16(port)),
		readDone: make(chan struct{}),
		expect:   true,
	}
	cs, _ := newCodecState(PCMU)
	s.codec.Store(cs)
	s.out.init(s)

	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		e.ports.release(port, &pairSockets{rtp: conn, rtcp: rtcp})
		return nil, ErrClosed
	}
	e.sessions[s] = struct{}{}
	e.wg.Add(1)
	e.startRTCPLocked()
	e.mu.Unlock()
	go s.readLoop()
	return s, nil
}

// LocalAddr is the RTP address the session listens on (the bind address,
// possibly 0.0.0.0: put the public address in SDP and take the port from
// here). RTCP is on the next port.
func (s *Session) LocalAddr() netip.AddrPort { return s.local }

// SetRemote sets the far end's RTP address from its SDP. Packets go there
// until a source is latched. An invalid or unspecified address (the old
// c=0.0.0.0 hold) or port 0 stops sending until the next SetRemote or latch.
func (s *Session) SetRemote(addr netip.AddrPort) {
	a := netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	if s.eng.cfg.BindIP.Is6() {
		a = addr
	}
	if !a.Addr().IsValid() || a.Addr().IsUnspecified() || a.Port() == 0 {
		s.remote.Store(nil)
		return
	}
	s.remote.Store(&a)
}

// Remote returns the address packets are sent to: the latched source if
// any, else the SDP address, else the zero value.
func (s *Session) Remote() netip.AddrPort {
	if d := s.dest(); d != nil {
		return *d
	}
	return netip.AddrPort{}
}

func (s *Session) dest() *netip.AddrPort {
	if d := s.latched.Load(); d != nil {
		return d
	}
	return s.remote.Load()
}

// Latched returns the source the session latched onto, if any.
func (s *Session) Latched() (netip.AddrPort, bool) {
	if l := s.latched.Load(); l != nil {
		return *l, true
	}
	return netip.AddrPort{}, false
}

// Relatch forgets the latched source: the next valid packet, from wherever
// it comes, is latched. Call it when a re-INVITE changes the far end.
func (s *Session) Relatch() { s.latched.Store(nil) }

// SetCodec sets the codec of the session in both directions (one codec per
// session, as negotiated). Only PCMU and PCMA are supported.
func (s *Session) SetCodec(c Codec) error {
	cs, err := newCodecState(c)
	if err != nil {
		return err
	}
	s.codec.Store(cs)
	return nil
}

// Codec returns the session's codec.
func (s *Session) Codec() Codec { return s.codec.Load().Codec }

// SetDTMFPayloadType sets the negotiated telephone-event payload type (RFC
// 4733); 0 means none: received events are then not recognised and relayed
// events are not sent to this session.
func (s *Session) SetDTMFPayloadType(pt uint8) error {
	if pt > 127 {
		return fmt.Errorf("media: telephone-event payload type %d out of range", pt)
	}
	s.dtmfPT.Store(uint32(pt))
	return nil
}

// OnDTMF registers fn to be called once per RFC 4733 event received on the
// session (at its end; retransmitted end packets are folded). The rune is
// '0'-'9', '*', '#', 'A'-'D', or '!' for flash. fn runs on the receive
// goroutine: it must not block (it may call Play, StopPlayback or Close).
// nil removes the observer.
func (s *Session) OnDTMF(fn func(digit rune)) {
	if fn == nil {
		s.onDTMF.Store(nil)
		return
	}
	s.onDTMF.Store(&fn)
}

// LastReceived returns when the last valid RTP packet arrived, or the zero
// time if none has.
func (s *Session) LastReceived() time.Time {
	ns := s.lastRx.Load()
	if ns == 0 {
		return time.Time{}
	}
	return s.eng.epoch.Add(time.Duration(ns - 1))
}

// Stats returns the session's packet counters.
func (s *Session) Stats() SessionStats {
	return SessionStats{Received: s.received.Load(), Ignored: s.ignored.Load(), Sent: s.sent.Load()}
}

// Close stops everything the session does and returns its ports to the
// engine, where they rest for the quarantine period, their sockets kept
// open for a next session (Config.SocketReuse). It is idempotent.
func (s *Session) Close() error {
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return nil
	}
	s.closed.Store(true)
	if w := s.watch; w != nil {
		w.timer.Stop()
		s.watch = nil
	}
	s.mu.Unlock()

	s.Unbridge()
	play, music := s.out.detachAll()
	if play != nil {
		play.Stop()
	}
	if music != nil {
		music.unsubscribe(s)
	}
	// A callback running on the receive goroutine may be what closes us:
	// waiting for that goroutine would then never end, and the sockets
	// are closed to end it. Otherwise the receive goroutine is stopped by
	// a deadline and the sockets are kept for the next session.
	if s.inCallback.Load() || !s.eng.ports.keepsSockets() {
		s.conn.Close()
		s.rtcp.Close()
		if !s.inCallback.Load() {
			<-s.readDone
		}
		s.eng.ports.release(s.port, nil)
	} else {
		_ = s.conn.SetReadDeadline(time.Unix(1, 0))
		<-s.readDone
		_ = s.conn.SetReadDeadline(time.Time{})
		s.eng.ports.release(s.port, &pairSockets{rtp: s.conn, rtcp: s.rtcp})
	}
	s.eng.mu.Lock()
	delete(s.eng.sessions, s)
	s.eng.ended.add(s.traffic())
	s.eng.mu.Unlock()
	return nil
}

func (s *Session) readLoop() {
	defer s.eng.wg.Done()
	defer close(s.readDone)
	buf := s.rx[:maxPacket]
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.closed.Load() {
				return
			}
			continue
		}
		s.handle(n, from)
	}
}

// handle processes one received datagram. It runs on the receive goroutine
// and must not allocate.
func (s *Session) handle(n int, from netip.AddrPort) {
	pkt := s.rx[:n]
	if n < rtpHeaderLen || pkt[0]>>6 != rtpVersion {
		s.ignored.Add(1)
		return
	}
	pt := pkt[1] & 0x7f
	cs := s.codec.Load()
	dpt := s.dtmfPT.Load()
	isDTMF := dpt != 0 && uint32(pt) == dpt
	if pt != cs.PayloadType && !isDTMF {
		s.ignored.Add(1)
		return
	}
	l := s.latched.Load()
	if l != nil && *l != from {
		s.ignored.Add(1)
		return
	}
	if c := s.srtpIn.Load(); c != nil {
		dec, err := c.DecryptRTP(pkt, pkt, &s.rxHdr)
		if err != nil {
			s.ignored.Add(1)
			return
		}
		pkt = dec
	}
	h, ok := parseRTP(pkt)
	if !ok {
		s.ignored.Add(1)
		return
	}
	if l == nil {
		s.latch(from)
	}
	now := s.eng.now()
	s.lastRx.Store(now)
	s.received.Add(1)
	s.rxq.add(h.ssrc, h.seq, h.ts, n, !isDTMF, now)

	payload := pkt[h.hdrLen:h.payEnd]
	if isDTMF {
		s.observeDTMF(payload, h.ts)
	} else if tl := s.taps.Load(); tl != nil {
		if s.rxTap == nil {
			s.rxTap = make([]int16, maxPacket)
		}
		runTaps(*tl, Inbound, now, decode(s.rxTap, payload, cs.kind))
	}
	if e := s.link.Load(); e != nil {
		// The new header goes in the 12 bytes before the payload, over
		// the old header (and any CSRC or extension, which are dropped).
		e.peer.out.relay(e.br, pkt[h.hdrLen-rtpHeaderLen:h.payEnd], &h, isDTMF, cs.kind, s.rxEpoch, now)
	}
}

func (s *Session) latch(from netip.AddrPort) {
	a := from
	s.latched.Store(&a)
	s.rxEpoch++
	s.eng.log.Debug("media: latched", "session", s.id, "local", s.local, "source", from)
}

// Unbridge ends the bridge the session is in, if any.
func (s *Session) Unbridge() {
	s.eng.bridgeMu.Lock()
	defer s.eng.bridgeMu.Unlock()
	if b := s.bridge; b != nil {
		b.closeLocked()
	}
}

// Bridged returns the bridge the session is in, or nil.
func (s *Session) Bridged() *Bridge {
	s.eng.bridgeMu.Lock()
	defer s.eng.bridgeMu.Unlock()
	return s.bridge
}

func randomSSRC() uint32 {
	for {
		if v := rand.Uint32(); v != 0 {
			return v
		}
	}
}
