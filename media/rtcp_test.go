package media

import (
	"math"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

func newRTCPEngine(t *testing.T) *Engine {
	t.Helper()
	e, err := NewEngine(Config{BindIP: netip.MustParseAddr("127.0.0.1"), PortMin: testPortMin, PortMax: testPortMax,
		Quarantine: 50 * time.Millisecond, RTCPInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// rtcpPeer is the RTCP socket of a far end.
type rtcpPeer struct {
	t    *testing.T
	conn *net.UDPConn
}

func newRTCPPeer(t *testing.T) *rtcpPeer {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rtcpPeer{t: t, conn: c}
}

func (p *rtcpPeer) send(s *Session, pkts ...rtcp.Packet) {
	p.t.Helper()
	b, err := rtcp.Marshal(pkts)
	if err != nil {
		p.t.Fatal(err)
	}
	to := netip.AddrPortFrom(s.LocalAddr().Addr(), s.LocalAddr().Port()+1)
	if _, err := p.conn.WriteToUDPAddrPort(b, to); err != nil {
		p.t.Fatal(err)
	}
}

// nextSR waits for a sender report.
func (p *rtcpPeer) nextSR() *rtcp.SenderReport {
	p.t.Helper()
	buf := make([]byte, 1500)
	deadline := time.Now().Add(waitLong)
	for {
		p.conn.SetReadDeadline(deadline)
		n, err := p.conn.Read(buf)
		if err != nil {
			p.t.Fatalf("no RTCP sender report: %v", err)
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			p.t.Fatalf("RTCP from the session does not parse: %v", err)
		}
		if _, ok := pkts[len(pkts)-1].(*rtcp.SourceDescription); !ok {
			p.t.Fatalf("compound packet %T does not end with an SDES", pkts)
		}
		if sr, ok := pkts[0].(*rtcp.SenderReport); ok {
			return sr
		}
	}
}

// TestRTCPTranslatedPerLeg: each side of a bridge gets sender reports in
// the session's own SSRC with the counts of what the session sent it, and
// a reception block on that side's own stream; a phone's reports are read
// (its loss shows in Quality) and never relayed to the other side.
func TestRTCPTranslatedPerLeg(t *testing.T) {
	e := newRTCPEngine(t)
	p := &pair{e: e, sa: newTestSession(t, e), sb: newTestSession(t, e), pa: newPeer(t), pb: newPeer(t)}
	p.pb.ssrc, p.pb.seq, p.pb.ts = 0x55667788, 40000, 7000
	p.sa.SetRemote(p.pa.addr())
	p.sb.SetRemote(p.pb.addr())
	if _, err := NewBridge(p.sa, p.sb); err != nil {
		t.Fatal(err)
	}
	ra, rb := newRTCPPeer(t), newRTCPPeer(t)
	const n = 50
	var toA, toB uint32 // SSRCs the sessions send to each phone
	for i := range n {
		p.pa.send(p.sa.LocalAddr(), 0, payloadOf(byte(i), FrameSamples))
		toB = p.pb.mustRecv(waitLong).SSRC
		p.pb.send(p.sb.LocalAddr(), 0, payloadOf(byte(i), FrameSamples))
		toA = p.pa.mustRecv(waitLong).SSRC
	}
	// Phone b says it lost 5 of the session's packets; phone a reports
	// nothing lost. Both reports also latch the sessions' RTCP on them.
	rb.send(p.sb, &rtcp.ReceiverReport{SSRC: p.pb.ssrc, Reports: []rtcp.ReceptionReport{{SSRC: toB, TotalLost: 5, Jitter: 80}}})
	ra.send(p.sa, &rtcp.ReceiverReport{SSRC: p.pa.ssrc, Reports: []rtcp.ReceptionReport{{SSRC: toA}}})

	for _, c := range []struct {
		name     string
		r        *rtcpPeer
		ssrc     uint32 // the session's SSRC towards that phone
		phone    uint32 // the phone's own SSRC
		s        *Session
		wantLoss float64
	}{{"a", ra, toA, p.pa.ssrc, p.sa, 0}, {"b", rb, toB, p.pb.ssrc, p.sb, 0.1}} {
		sr := c.r.nextSR()
		if sr.SSRC != c.ssrc {
			t.Errorf("%s: sender report from SSRC %08x, the session sends as %08x", c.name, sr.SSRC, c.ssrc)
		}
		if sr.PacketCount != n || sr.OctetCount != n*FrameSamples {
			t.Errorf("%s: sender report counts %d packets, %d octets; sent %d, %d", c.name, sr.PacketCount, sr.OctetCount, n, n*FrameSamples)
		}
		if len(sr.Reports) != 1 || sr.Reports[0].SSRC != c.phone || sr.Reports[0].TotalLost != 0 {
			t.Errorf("%s: reception blocks %+v, want one on the phone's SSRC %08x with nothing lost", c.name, sr.Reports, c.phone)
		}
		waitFor(t, "the phone's report read", func() bool { return c.s.Quality().RemoteReports > 0 })
		q := c.s.Quality()
		if q.Received != n || q.Expected != n || q.Loss != 0 || math.Abs(q.RemoteLoss-c.wantLoss) > 1e-9 {
			t.Errorf("%s: quality %+v, want %d received of %d, remote loss %.2f", c.name, q, n, n, c.wantLoss)
		}
	}
}

// TestQualityUnderLoss: one packet in ten never sent shows as 10% loss and
// a lower MOS; an unharmed stream scores near G.711's best.
func TestQualityUnderLoss(t *testing.T) {
	e := newTestEngine(t)
	for _, c := range []struct {
		every    int // skip one sequence number in every
		loss     float64
		mosBelow float64
		mosAbove float64
	}{{0, 0, 4.5, 4.3}, {10, 0.1, 3.5, 1}} {
		s := newTestSession(t, e)
		ph := newPeer(t)
		sent := 0
		for i := range 100 {
			if c.every > 0 && i%c.every == c.every-1 {
				ph.seq++
				ph.ts += FrameSamples
				continue
			}
			ph.send(s.LocalAddr(), 0, payloadOf(byte(i), FrameSamples))
			sent++
		}
		waitFor(t, "every packet received", func() bool { return s.Stats().Received == uint64(sent) })
		q := s.Quality()
		if math.Abs(q.Loss-c.loss) > 0.011 || q.MOS >= c.mosBelow || q.MOS <= c.mosAbove {
			t.Errorf("skipping 1 in %d: quality %+v, want loss %.2f and MOS in (%.1f, %.1f)", c.every, q, c.loss, c.mosAbove, c.mosBelow)
		}
	}
}

// TestEngineTraffic: the engine's totals count the packets and bytes of
// open and of closed sessions.
func TestEngineTraffic(t *testing.T) {
	p := newPair(t, PCMU, PCMU)
	for i := range 10 {
		p.pa.send(p.sa.LocalAddr(), 0, payloadOf(byte(i), FrameSamples))
		p.pb.mustRecv(waitLong)
	}
	want := Traffic{PacketsIn: 10, PacketsOut: 10, BytesIn: 10 * (12 + FrameSamples), BytesOut: 10 * (12 + FrameSamples)}
	// A packet is counted once its send returns, which may be after the
	// peer already read it.
	waitFor(t, "the last packet counted", func() bool { return p.e.Traffic() == want })
	p.sa.Close()
	p.sb.Close()
	if got := p.e.Traffic(); got != want {
		t.Fatalf("closed: %+v, want %+v", got, want)
	}
}
