package media

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// Test engines use a port range outside both the defaults and Linux's
// ephemeral range (32768-60999), where the OS picks ports for test peers.
const (
	testPortMin = 21000
	testPortMax = 31999
	waitLong    = 5 * time.Second
)

func newTestEngine(t testing.TB) *Engine {
	t.Helper()
	e, err := NewEngine(Config{
		BindIP:     netip.MustParseAddr("127.0.0.1"),
		PortMin:    testPortMin,
		PortMax:    testPortMax,
		Quarantine: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func newTestSession(t testing.TB, e *Engine) *Session {
	t.Helper()
	s, err := e.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// peer is a far end: a UDP socket on an OS-chosen loopback port speaking
// RTP with pion/rtp.
type peer struct {
	t    testing.TB
	conn *net.UDPConn
	ssrc uint32
	seq  uint16
	ts   uint32
	buf  []byte
}

func newPeer(t testing.TB) *peer {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &peer{t: t, conn: c, ssrc: 0x11223344, seq: 1000, ts: 50000, buf: make([]byte, 2048)}
}

func (p *peer) addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// packet builds the next packet of the peer's stream.
func (p *peer) packet(pt uint8, payload []byte, marker bool) *rtp.Packet {
	pkt := &rtp.Packet{
		Header: rtp.Header{
			Version: 2, PayloadType: pt, SequenceNumber: p.seq, Timestamp: p.ts,
			SSRC: p.ssrc, Marker: marker,
		},
		Payload: payload,
	}
	p.seq++
	return pkt
}

func (p *peer) sendPacket(to netip.AddrPort, pkt *rtp.Packet) {
	p.t.Helper()
	b, err := pkt.Marshal()
	if err != nil {
		p.t.Fatal(err)
	}
	p.sendRaw(to, b)
}

func (p *peer) sendRaw(to netip.AddrPort, b []byte) {
	p.t.Helper()
	if _, err := p.conn.WriteToUDPAddrPort(b, to); err != nil {
		p.t.Fatal(err)
	}
}

// send sends one audio frame and advances the timestamp by a frame.
func (p *peer) send(to netip.AddrPort, pt uint8, payload []byte) *rtp.Packet {
	p.t.Helper()
	pkt := p.packet(pt, payload, false)
	p.sendPacket(to, pkt)
	p.ts += FrameSamples
	return pkt
}

// recv returns the next datagram, or an error on timeout.
func (p *peer) recvRaw(timeout time.Duration) ([]byte, netip.AddrPort, error) {
	p.conn.SetReadDeadline(time.Now().Add(timeout))
	n, from, err := p.conn.ReadFromUDPAddrPort(p.buf)
	if err != nil {
		return nil, from, err
	}
	return append([]byte(nil), p.buf[:n]...), from, nil
}

func (p *peer) recv(timeout time.Duration) (*rtp.Packet, error) {
	b, _, err := p.recvRaw(timeout)
	if err != nil {
		return nil, err
	}
	var pkt rtp.Packet
	if err := pkt.Unmarshal(b); err != nil {
		return nil, err
	}
	return &pkt, nil
}

func (p *peer) mustRecv(timeout time.Duration) *rtp.Packet {
	p.t.Helper()
	pkt, err := p.recv(timeout)
	if err != nil {
		p.t.Fatalf("peer %s: receive: %v", p.addr(), err)
	}
	return pkt
}

// expectNothing asserts nothing arrives within d.
func (p *peer) expectNothing(d time.Duration) {
	p.t.Helper()
	b, _, err := p.recvRaw(d)
	if err == nil {
		p.t.Fatalf("peer %s: unexpected datagram of %d bytes", p.addr(), len(b))
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		p.t.Fatal(err)
	}
}

// drain discards whatever arrives within d.
func (p *peer) drain(d time.Duration) int {
	n := 0
	for {
		if _, _, err := p.recvRaw(d); err != nil {
			return n
		}
		n++
	}
}

// pair is a bridged call: peer a <-> session a <-> session b <-> peer b.
type pair struct {
	e      *Engine
	sa, sb *Session
	pa, pb *peer
	br     *Bridge
}

func newPair(t testing.TB, ca, cb Codec) *pair {
	t.Helper()
	e := newTestEngine(t)
	p := &pair{e: e, sa: newTestSession(t, e), sb: newTestSession(t, e), pa: newPeer(t), pb: newPeer(t)}
	p.pb.ssrc, p.pb.seq, p.pb.ts = 0x55667788, 40000, 7000
	if err := p.sa.SetCodec(ca); err != nil {
		t.Fatal(err)
	}
	if err := p.sb.SetCodec(cb); err != nil {
		t.Fatal(err)
	}
	p.sa.SetRemote(p.pa.addr())
	p.sb.SetRemote(p.pb.addr())
	br, err := NewBridge(p.sa, p.sb)
	if err != nil {
		t.Fatal(err)
	}
	p.br = br
	return p
}

func payloadOf(seed byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7)
	}
	return b
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func openFDs(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd:", err)
	}
	return len(ents)
}

func goroutines() int { return runtime.NumGoroutine() }

var errEOF = io.EOF
