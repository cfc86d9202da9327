package media

import (
	"encoding/binary"
	"net"
	"net/netip"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// cpuTime returns the CPU time (user + system) of the whole process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchPeer is a far end that sends a prepared packet (rewriting only its
// sequence number and timestamp) and receives into a fixed buffer, so the
// benchmark itself allocates nothing.
type benchPeer struct {
	conn *net.UDPConn
	pkt  []byte
	buf  []byte
	seq  uint16
	ts   uint32
	srtp *srtp.Context
	enc  []byte
	hdr  rtp.Header
}

func newBenchPeer(b *testing.B, pt uint8) *benchPeer {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	c.SetReadBuffer(1 << 20)
	pkt := make([]byte, 12+FrameSamples)
	putRTPHeader(pkt, false, pt, 0, 0, 0x1234)
	for i := range pkt[12:] {
		pkt[12+i] = byte(i)
	}
	return &benchPeer{conn: c, pkt: pkt, buf: make([]byte, 2048), enc: make([]byte, 0, 256)}
}

func (p *benchPeer) addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (p *benchPeer) send(b *testing.B, to netip.AddrPort) {
	binary.BigEndian.PutUint16(p.pkt[2:], p.seq)
	binary.BigEndian.PutUint32(p.pkt[4:], p.ts)
	p.seq++
	p.ts += FrameSamples
	out := p.pkt
	if p.srtp != nil {
		var err error
		if out, err = p.srtp.EncryptRTP(p.enc[:0], p.pkt, &p.hdr); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := p.conn.WriteToUDPAddrPort(out, to); err != nil {
		b.Fatal(err)
	}
}

func (p *benchPeer) recv(b *testing.B) {
	p.conn.SetReadDeadline(time.Now().Add(waitLong))
	if _, _, err := p.conn.ReadFromUDPAddrPort(p.buf); err != nil {
		b.Fatal(err)
	}
}

type benchCall struct {
	sa, sb *Session
	pa, pb *benchPeer
}

func newBenchCall(b *testing.B, ca, cb Codec) *benchCall {
	e := newTestEngine(b)
	c := &benchCall{sa: newTestSession(b, e), sb: newTestSession(b, e), pa: newBenchPeer(b, ca.PayloadType), pb: newBenchPeer(b, cb.PayloadType)}
	c.sa.SetCodec(ca)
	c.sb.SetCodec(cb)
	c.sa.SetRemote(c.pa.addr())
	c.sb.SetRemote(c.pb.addr())
	if _, err := NewBridge(c.sa, c.sb); err != nil {
		b.Fatal(err)
	}
	return c
}

// runRelay sends b.N packets from pa through the call to pb, window
// packets in flight at a time, and reports CPU per packet.
func runRelay(b *testing.B, to netip.AddrPort, pa, pb *benchPeer, window int) {
	// Warm up (latching, first-use buffers).
	for i := 0; i < 10; i++ {
		pa.send(b, to)
		pb.recv(b)
	}
	runtime.GC()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i += window {
		n := min(window, b.N-i)
		for j := 0; j < n; j++ {
			pa.send(b, to)
		}
		for j := 0; j < n; j++ {
			pb.recv(b)
		}
	}
	cpu := cpuTime() - cpu0
	b.StopTimer()
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/pkt")
}

// BenchmarkRelay: one packet at a time through a same-codec bridge: the
// latency path, two goroutine wake-ups per packet.
func BenchmarkRelay(b *testing.B) {
	c := newBenchCall(b, PCMU, PCMU)
	runRelay(b, c.sa.LocalAddr(), c.pa, c.pb, 1)
}

// BenchmarkRelayWindow16: 16 packets in flight, closer to a loaded server
// where the receive goroutine finds packets waiting.
func BenchmarkRelayWindow16(b *testing.B) {
	c := newBenchCall(b, PCMU, PCMU)
	runRelay(b, c.sa.LocalAddr(), c.pa, c.pb, 16)
}

func BenchmarkRelayTranscode(b *testing.B) {
	c := newBenchCall(b, PCMU, PCMA)
	runRelay(b, c.sa.LocalAddr(), c.pa, c.pb, 16)
}

// BenchmarkRelaySRTP: SRTP leg to plain leg. The sending peer's own
// encryption is included in the figures.
func BenchmarkRelaySRTP(b *testing.B) {
	c := newBenchCall(b, PCMU, PCMU)
	k1, _ := GenerateSDESKey()
	k2, _ := GenerateSDESKey()
	if err := c.sa.SetSRTP(SuiteAESCM128HMACSHA180, k1, k2); err != nil {
		b.Fatal(err)
	}
	key, _ := decodeSDESKey(k2)
	ctx, err := srtp.CreateContext(key[:16], key[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
	if err != nil {
		b.Fatal(err)
	}
	c.pa.srtp = ctx
	runRelay(b, c.sa.LocalAddr(), c.pa, c.pb, 16)
}

// BenchmarkLoopbackBaseline is the floor: the same peers and window, with
// the bridge replaced by a bare goroutine doing one read and one write per
// packet. BenchmarkRelayWindow16 minus this is the engine's own cost.
func BenchmarkLoopbackBaseline(b *testing.B) {
	pa, pb := newBenchPeer(b, 0), newBenchPeer(b, 0)
	mid, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		dst := pb.addr()
		for {
			n, _, err := mid.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			mid.WriteToUDPAddrPort(buf[:n], dst)
		}
	}()
	runRelay(b, mid.LocalAddr().(*net.UDPAddr).AddrPort(), pa, pb, 16)
	mid.Close()
	<-done
}

// BenchmarkDirectLoopback: the peers alone (send, receive), no relay in
// between. Relay CPU per packet ≈ BenchmarkRelayWindow16 − this.
func BenchmarkDirectLoopback(b *testing.B) {
	pa, pb := newBenchPeer(b, 0), newBenchPeer(b, 0)
	runRelay(b, pb.addr(), pa, pb, 16)
}

// BenchmarkMusicFanout: one music class, 100 listeners; an op is one 20 ms
// tick. Reports CPU per frame delivered to a listener.
func BenchmarkMusicFanout(b *testing.B) {
	e := newTestEngine(b)
	class := e.Music("bench", nil)
	sink := newBenchPeer(b, 0)
	const listeners = 100
	for i := 0; i < listeners; i++ {
		s := newTestSession(b, e)
		s.SetRemote(sink.addr())
		s.StartMusic(class)
	}
	go func() {
		for {
			if _, _, err := sink.conn.ReadFromUDPAddrPort(sink.buf); err != nil {
				return
			}
		}
	}()
	time.Sleep(100 * time.Millisecond)
	b.ResetTimer()
	f0, cpu0 := class.frames.Load(), cpuTime()
	for class.frames.Load() < f0+uint64(b.N) {
		time.Sleep(FrameInterval)
	}
	f1, cpu := class.frames.Load(), cpuTime()-cpu0
	b.StopTimer()
	if f1 > f0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64((f1-f0)*listeners), "cpu-ns/listener-frame")
	}
}

// BenchmarkCallMemory reports the memory of an established call: two
// sessions bridged, each having relayed packets (buffers and stacks in
// use). Kernel socket buffers are not counted.
func BenchmarkCallMemory(b *testing.B) {
	const calls = 500
	e := newTestEngine(b)
	pa := newBenchPeer(b, 0)
	pb := newBenchPeer(b, 0)
	var perCall float64
	for it := 0; it < b.N; it++ {
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		ss := make([]*Session, 0, 2*calls)
		for i := 0; i < calls; i++ {
			a, err := e.NewSession()
			if err != nil {
				b.Fatal(err)
			}
			s, err := e.NewSession()
			if err != nil {
				b.Fatal(err)
			}
			a.SetRemote(pa.addr())
			s.SetRemote(pb.addr())
			NewBridge(a, s)
			pa.send(b, a.LocalAddr())
			pb.recv(b)
			pb.send(b, s.LocalAddr())
			pa.recv(b)
			ss = append(ss, a, s)
		}
		runtime.GC()
		runtime.ReadMemStats(&m1)
		used := (m1.HeapInuse + m1.StackInuse) - (m0.HeapInuse + m0.StackInuse)
		perCall = float64(used) / calls
		for _, s := range ss {
			s.Close()
		}
	}
	b.ReportMetric(perCall, "B/call")
}

// benchmarkHandle measures the engine's own work on a received packet
// (validation, latch check, bridge lookup, stream mapping, header rewrite,
// transcoding) without the syscalls: the receiving session has no
// destination, so nothing is written.
func benchmarkHandle(b *testing.B, ca, cb Codec) {
	e := newTestEngine(b)
	sa, sb := newTestSession(b, e), newTestSession(b, e)
	sa.SetCodec(ca)
	sb.SetCodec(cb)
	if _, err := NewBridge(sa, sb); err != nil {
		b.Fatal(err)
	}
	from := netip.MustParseAddrPort("192.0.2.1:4000")
	tmpl := make([]byte, 12+FrameSamples)
	putRTPHeader(tmpl, false, ca.PayloadType, 0, 0, 0x1234)
	n := len(tmpl)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// The receive goroutine is parked in its read: nothing is sent
		// to the session, so the buffer is ours.
		copy(sa.rx[:], tmpl)
		binary.BigEndian.PutUint16(sa.rx[2:], uint16(i))
		binary.BigEndian.PutUint32(sa.rx[4:], uint32(i)*FrameSamples)
		sa.handle(n, from)
	}
	b.StopTimer()
	if got := sa.Stats().Received; got != uint64(b.N) {
		b.Fatalf("handled %d of %d", got, b.N)
	}
}

func BenchmarkHandleRelay(b *testing.B)     { benchmarkHandle(b, PCMU, PCMU) }
func BenchmarkHandleTranscode(b *testing.B) { benchmarkHandle(b, PCMU, PCMA) }
