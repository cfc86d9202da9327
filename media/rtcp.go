package media

import (
	"math/rand/v2"
	"net/netip"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pion/rtcp"
)

// RTCP: every session reports on its own leg, from its own counters, as
// an RTP translator that rewrites SSRCs and sequence numbers must (RFC
// 3550 section 7). A sender report carries the packets and octets the
// session sent on its SSRC and a reception report block on the stream it
// receives; a session that has sent nothing sends a receiver report. What
// a phone reports is read and kept (Quality) but never relayed to the
// other leg: its SSRCs and counts would be meaningless there.
//
// One engine goroutine does it all: each tick it reads what arrived on the
// sessions' RTCP sockets without blocking and sends the reports that are
// due. Nothing of it runs on the RTP receive path.

// DefaultRTCPInterval is the mean interval between two reports of a
// session (RFC 3550's minimum); each is drawn between half and one and a
// half times it.
const DefaultRTCPInterval = 5 * time.Second

// farReports is what the far end said in its RTCP about the session's
// stream, and the last sender report it sent (for the LSR and DLSR of the
// session's own reports). The reporter goroutine writes it.
type farReports struct {
	reports  atomic.Int64  // reception report blocks about our SSRC
	lost     atomic.Int64  // cumulative packets lost, from the last one
	jitter   atomic.Uint32 // its jitter, timestamp units
	lastSR   atomic.Uint32 // middle 32 bits of the NTP time of its last SR
	lastSRAt atomic.Int64  // engine ns when that SR arrived
	srs      atomic.Int64  // sender reports received
}

// rtcpState is the reporter goroutine's own state of one session.
type rtcpState struct {
	next             int64 // engine ns of the next report
	prevExp, prevRec int64 // at the previous report, for the fraction lost
	dest             *netip.AddrPort
}

// SentReports counts the RTCP compound packets the session sent.
func (s *Session) SentReports() int64 { return s.rtcpSent.Load() }

// FarSenderReports counts the RTCP sender reports received from the far end.
func (s *Session) FarSenderReports() int64 { return s.far.srs.Load() }

// startRTCPLocked starts the reporter once, with the first session; e.mu
// is held, so Close cannot be waiting for the engine's goroutines yet. The
// reporter also closes the sockets of pairs no longer warm (portPool).
func (e *Engine) startRTCPLocked() {
	if e.rtcpStarted || (e.cfg.RTCPInterval < 0 && e.cfg.SocketReuse < 0) {
		return
	}
	e.rtcpStarted = true
	e.wg.Add(1)
	go e.rtcpLoop()
}

func (e *Engine) rtcpLoop() {
	defer e.wg.Done()
	tick := max(e.cfg.RTCPInterval/4, 10*time.Millisecond)
	if e.cfg.RTCPInterval < 0 {
		tick = time.Second
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	var list []*Session
	// One read buffer for every session: a session holds no RTCP buffer.
	buf := make([]byte, 1500)
	for {
		select {
		case <-e.stopRTCP:
			return
		case <-t.C:
		}
		e.ports.reap()
		if e.cfg.RTCPInterval < 0 {
			continue
		}
		e.mu.Lock()
		list = list[:0]
		for s := range e.sessions {
			list = append(list, s)
		}
		e.mu.Unlock()
		for _, s := range list {
			s.rtcpTick(e.now(), buf)
		}
		clear(list)
	}
}

func (s *Session) rtcpTick(now int64, buf []byte) {
	if s.closed.Load() {
		return
	}
	s.readRTCP(now, buf)
	st := &s.rtcpSt
	if st.next == 0 {
		// The first report goes out within half an interval.
		st.next = now + int64(float64(s.eng.cfg.RTCPInterval)*(0.1+0.4*rand.Float64()))
		return
	}
	if now < st.next {
		return
	}
	st.next = now + int64(float64(s.eng.cfg.RTCPInterval)*(0.5+rand.Float64()))
	s.sendReport(now)
}

// readRTCP reads what is queued on the RTCP socket without waiting: the
// socket is non-blocking under Go's poller, and a raw read that always
// reports done never parks.
func (s *Session) readRTCP(now int64, buf []byte) {
	rc, err := s.rtcp.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Read(func(fd uintptr) bool {
		for range 16 {
			n, from, err := syscall.Recvfrom(int(fd), buf, 0)
			if err != nil || n <= 0 {
				return true
			}
			s.handleRTCP(buf[:n], from, now)
		}
		return true
	})
}

func (s *Session) handleRTCP(b []byte, from syscall.Sockaddr, now int64) {
	if s.srtpIn.Load() != nil {
		// SRTCP: its context belongs to the RTP receive goroutine.
		return
	}
	pkts, err := rtcp.Unmarshal(b)
	if err != nil {
		return
	}
	if a, ok := sockaddrAddrPort(from); ok {
		s.rtcpSt.dest = &a // symmetric RTCP, as RTP latches
	}
	ours := s.out.ssrc
	for _, p := range pkts {
		var blocks []rtcp.ReceptionReport
		switch p := p.(type) {
		case *rtcp.SenderReport:
			s.far.lastSR.Store(uint32(p.NTPTime >> 16))
			s.far.lastSRAt.Store(now)
			s.far.srs.Add(1)
			blocks = p.Reports
		case *rtcp.ReceiverReport:
			blocks = p.Reports
		}
		for _, r := range blocks {
			if r.SSRC != ours {
				continue
			}
			s.far.lost.Store(int64(r.TotalLost))
			s.far.jitter.Store(r.Jitter)
			s.far.reports.Add(1)
		}
	}
}

func sockaddrAddrPort(sa syscall.Sockaddr) (netip.AddrPort, bool) {
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)), true
	case *syscall.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), uint16(a.Port)), true
	}
	return netip.AddrPort{}, false
}

// ntpTime is t as a 64-bit NTP timestamp (seconds since 1900, 32.32).
func ntpTime(t time.Time) uint64 {
	const ntpEpochOffset = 2208988800
	s := uint64(t.Unix()) + ntpEpochOffset
	f := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return s<<32 | f
}

func (s *Session) sendReport(now int64) {
	st := &s.rtcpSt
	dest := st.dest
	if dest == nil {
		d := s.dest()
		if d == nil {
			return
		}
		a := netip.AddrPortFrom(d.Addr(), d.Port()+1)
		dest = &a
	}
	q := &s.rxq
	var blocks []rtcp.ReceptionReport
	rec := int64(s.received.Load())
	exp, extMax, jitter := q.snapshot(rec)
	if rec > 0 {
		dExp, dRec := exp-st.prevExp, rec-st.prevRec
		st.prevExp, st.prevRec = exp, rec
		var frac uint8
		if dExp > 0 && dExp > dRec {
			frac = uint8((dExp - dRec) * 256 / dExp)
		}
		lost := min(max(exp-rec, 0), 0x7fffff)
		r := rtcp.ReceptionReport{SSRC: q.srcSSRC.Load(), FractionLost: frac, TotalLost: uint32(lost),
			LastSequenceNumber: extMax, Jitter: jitter}
		if lsr := s.far.lastSR.Load(); lsr != 0 {
			r.LastSenderReport = lsr
			r.Delay = uint32((now - s.far.lastSRAt.Load()) * 65536 / int64(time.Second))
		}
		blocks = append(blocks, r)
	}
	o := &s.out
	o.mu.Lock()
	sent, octets := s.sent.Load(), o.octets
	rtpNow := o.lastTS + uint32((now-o.lastAt)/125000)
	started := o.started
	o.mu.Unlock()
	var head rtcp.Packet
	if sent > 0 && started {
		head = &rtcp.SenderReport{SSRC: o.ssrc, NTPTime: ntpTime(s.eng.epoch.Add(time.Duration(now))), RTPTime: rtpNow,
			PacketCount: uint32(sent), OctetCount: uint32(octets), Reports: blocks}
	} else if len(blocks) > 0 {
		head = &rtcp.ReceiverReport{SSRC: o.ssrc, Reports: blocks}
	} else {
		return // nothing flowed either way yet
	}
	pkt, err := rtcp.Marshal([]rtcp.Packet{head, rtcp.NewCNAMESourceDescription(o.ssrc, "pbx")})
	if err != nil {
		return
	}
	o.mu.Lock()
	if o.srtp != nil {
		pkt, err = o.srtp.EncryptRTCP(nil, pkt, nil)
	}
	o.mu.Unlock()
	if err != nil {
		return
	}
	if _, err := s.rtcp.WriteToUDPAddrPort(pkt, *dest); err == nil {
		s.rtcpSent.Add(1)
	}
}
