package media

import (
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"
)

func TestPortPoolQuarantine(t *testing.T) {
	clock := time.Unix(1000, 0)
	p := newPortPool(10001, 10008, 5*time.Second, 0, 0) // pairs 10002, 10004, 10006
	p.now = func() time.Time { return clock }
	var got []int
	for {
		port, _, _, ok := p.take()
		if !ok {
			break
		}
		got = append(got, port)
	}
	if len(got) != 3 || got[0] != 10002 || got[2] != 10006 {
		t.Fatalf("pairs %v", got)
	}
	p.release(10004, nil)
	if u, r, f := p.counts(); u != 2 || r != 1 || f != 0 {
		t.Fatalf("counts %d %d %d", u, r, f)
	}
	if _, _, _, ok := p.take(); ok {
		t.Fatal("resting pair handed out")
	}
	clock = clock.Add(5 * time.Second)
	if port, _, _, ok := p.take(); !ok || port != 10004 {
		t.Fatalf("after quarantine got %d %v", port, ok)
	}
}

// TestPortPoolWarmSockets: a pair released with its sockets rests with
// them, is then handed out with them before any free pair, and once its
// reuse period is over its sockets are handed back to be closed and the
// pair is free again.
func TestPortPoolWarmSockets(t *testing.T) {
	clock := time.Unix(1000, 0)
	p := newPortPool(10002, 10009, 5*time.Second, 10*time.Second, 10) // pairs 10002, 10004, 10006, 10008
	p.now = func() time.Time { return clock }
	a, _, _, _ := p.take() // 10002
	b, _, _, _ := p.take() // 10004
	sa, sb := &pairSockets{}, &pairSockets{}
	p.release(a, sa)
	p.release(b, sb)
	if port, socks, _, _ := p.take(); port != 10006 || socks != nil {
		t.Fatalf("during the quarantine: pair %d with sockets %v, want the free 10006 without", port, socks)
	}
	clock = clock.Add(keptQuarantine)
	if port, socks, expired, _ := p.take(); port != a || socks != sa || len(expired) != 0 {
		t.Fatalf("after the quarantine: pair %d, sockets %p (want %d, %p), expired %v", port, socks, a, sa, expired)
	}
	if u, r, f := p.counts(); u != 2 || r != 0 || f != 2 {
		t.Fatalf("counts %d %d %d: a warm pair counts as free", u, r, f)
	}
	clock = clock.Add(10 * time.Second)
	port, socks, expired, _ := p.take()
	if socks != nil || len(expired) != 1 || expired[0] != sb {
		t.Fatalf("after the reuse period: pair %d with sockets %p, expired %v; want the sockets of %d expired", port, socks, expired, b)
	}
	if port != 10008 {
		t.Fatalf("after the reuse period: pair %d, want the free 10008 first", port)
	}
	if port, _, _, _ := p.take(); port != b {
		t.Fatalf("the pair whose sockets expired (%d) did not join the free pairs: got %d", b, port)
	}
}

func TestEngineSkipsBusyPorts(t *testing.T) {
	// Another process holds the first pair's RTCP port.
	busy, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: testPortMax - 2})
	if err != nil {
		t.Skip("cannot hold a test port:", err)
	}
	defer busy.Close()
	e, err := NewEngine(Config{
		BindIP: netip.MustParseAddr("127.0.0.1"), PortMin: testPortMax - 3, PortMax: testPortMax,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	s, err := e.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if got := s.LocalAddr().Port(); got != testPortMax-1 {
		t.Fatalf("got port %d, want %d", got, testPortMax-1)
	}
	if _, err := e.NewSession(); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("err %v, want ErrNoPorts", err)
	}
	if st := e.Stats(); st.PortsInUse != 2 || st.PortsResting != 2 || st.PortsFree != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestNewEngineRejectsBadRange(t *testing.T) {
	for _, r := range [][2]int{{20001, 20001}, {-5, 100}, {100, 70000}, {3001, 3002}} {
		if _, err := NewEngine(Config{PortMin: r[0], PortMax: r[1]}); err == nil {
			t.Errorf("range %v accepted", r)
		}
	}
	e, err := NewEngine(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if st := e.Stats(); st.PortsFree != DefaultPortMax-DefaultPortMin {
		t.Fatalf("default range: %+v", st)
	}
	e.Close()
}

// TestPortPoolKeepsAtMostMaxKept: beyond maxKept pairs holding their
// sockets, a released pair's sockets are closed at once.
func TestPortPoolKeepsAtMostMaxKept(t *testing.T) {
	p := newPortPool(10002, 10009, 5*time.Second, 10*time.Second, 1)
	a, _, _, _ := p.take()
	b, _, _, _ := p.take()
	sa, sb := udpPairSockets(t), udpPairSockets(t)
	p.release(a, sa)
	p.release(b, sb)
	if _, err := sa.rtp.WriteToUDPAddrPort([]byte{0}, sa.rtcp.LocalAddr().(*net.UDPAddr).AddrPort()); err != nil {
		t.Fatalf("the first pair's sockets were closed: %v", err)
	}
	if _, err := sb.rtp.WriteToUDPAddrPort([]byte{0}, sa.rtcp.LocalAddr().(*net.UDPAddr).AddrPort()); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("the second pair's sockets, beyond maxKept, are still open (write: %v)", err)
	}
	p.closeAll()
	if _, err := sa.rtp.WriteToUDPAddrPort([]byte{0}, sa.rtcp.LocalAddr().(*net.UDPAddr).AddrPort()); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("closeAll left kept sockets open (write: %v)", err)
	}
}

func udpPairSockets(t *testing.T) *pairSockets {
	t.Helper()
	var ps pairSockets
	for _, c := range []**net.UDPConn{&ps.rtp, &ps.rtcp} {
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		*c = conn
	}
	return &ps
}

// TestWarmSocketsReused: once its short rest is over, a closed session's
// pair and its very sockets go to the next session, which receives what
// is sent to it.
func TestWarmSocketsReused(t *testing.T) {
	e := newTestEngine(t)
	s1, err := e.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	addr, conn := s1.LocalAddr(), s1.conn
	s1.Close()
	waitFor(t, "the rest to end", func() bool { return e.Stats().PortsResting == 0 })
	s2 := newTestSession(t, e)
	if s2.LocalAddr() != addr || s2.conn != conn {
		t.Fatalf("next session on %v (new socket: %v), want the warm pair %v and its socket", s2.LocalAddr(), s2.conn != conn, addr)
	}
	ph := newPeer(t)
	ph.send(addr, 0, payloadOf(9, FrameSamples))
	waitFor(t, "the packet received", func() bool { return s2.Stats().Received == 1 })
}

// TestWarmSocketsNotReusedAfterLatePackets: a pair whose sockets received
// packets after its session closed (late RTP, RTCP) is not handed to the
// next session: it rests the full quarantine without its sockets.
func TestWarmSocketsNotReusedAfterLatePackets(t *testing.T) {
	for _, rtcp := range []bool{false, true} {
		e := newTestEngine(t)
		s1, err := e.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		addr := s1.LocalAddr()
		s1.Close()
		late := newPeer(t)
		if rtcp {
			late.sendRaw(netip.AddrPortFrom(addr.Addr(), addr.Port()+1), []byte{0x80, 201, 0, 1, 0, 0, 0, 1})
		} else {
			late.send(addr, 0, payloadOf(1, FrameSamples))
		}
		waitFor(t, "the rest to end", func() bool { return e.Stats().PortsResting == 0 })
		s2 := newTestSession(t, e)
		if s2.LocalAddr() == addr {
			t.Fatalf("late packet on RTCP %v: the next session got the pair %v all the same", rtcp, addr)
		}
		if st := s2.Stats(); st.Received != 0 || st.Ignored != 0 {
			t.Fatalf("the next session read packets sent before it existed: %+v", st)
		}
	}
}
