package media

import (
	"net"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// listenPortPair binds a loopback RTP socket and the RTCP socket on the
// port above it, as a phone does.
func listenPortPair(t *testing.T) (rtpConn, rtcpConn *net.UDPConn) {
	t.Helper()
	for range 50 {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		r, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port + 1})
		if err == nil {
			t.Cleanup(func() { c.Close(); r.Close() })
			return c, r
		}
		c.Close()
	}
	t.Fatal("no free port pair")
	return nil, nil
}

func readRTCP(t *testing.T, c *net.UDPConn) []byte {
	t.Helper()
	buf := make([]byte, 1500)
	c.SetReadDeadline(time.Now().Add(waitLong))
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no RTCP: %v", err)
	}
	return buf[:n]
}

// TestRTCPToRTPPortPlusOne: a phone that sends no RTCP of its own gets the
// reports on the port above its RTP port.
func TestRTCPToRTPPortPlusOne(t *testing.T) {
	e := newRTCPEngine(t)
	s := newTestSession(t, e)
	rtpConn, rtcpConn := listenPortPair(t)
	ph := &peer{t: t, conn: rtpConn, ssrc: 0x0badcafe, seq: 7, ts: 800, buf: make([]byte, 2048)}
	s.SetRemote(ph.addr())
	for i := range 10 {
		ph.send(s.LocalAddr(), 0, payloadOf(byte(i), FrameSamples))
	}
	pkts, err := rtcp.Unmarshal(readRTCP(t, rtcpConn))
	if err != nil {
		t.Fatal(err)
	}
	rr, ok := pkts[0].(*rtcp.ReceiverReport)
	if !ok {
		t.Fatalf("a session that sent nothing sent %T, want a receiver report", pkts[0])
	}
	if len(rr.Reports) != 1 || rr.Reports[0].SSRC != ph.ssrc || rr.Reports[0].TotalLost != 0 || rr.Reports[0].LastSequenceNumber != 16 {
		t.Fatalf("receiver report %+v", rr)
	}
}

// TestSRTCPOnSRTPLeg: an SRTP leg's reports are SRTCP, which the phone
// decrypts with the session's key.
func TestSRTCPOnSRTPLeg(t *testing.T) {
	e := newRTCPEngine(t)
	p := &pair{e: e, sa: newTestSession(t, e), sb: newTestSession(t, e), pa: newPeer(t), pb: newPeer(t)}
	ourKey, _ := GenerateSDESKey()
	phoneKey, _ := GenerateSDESKey()
	if err := p.sa.SetSRTP(SuiteAESCM128HMACSHA180, "inline:"+ourKey, "inline:"+phoneKey); err != nil {
		t.Fatal(err)
	}
	phoneIn := srtpContext(t, SuiteAESCM128HMACSHA180, ourKey)
	rtpConn, rtcpConn := listenPortPair(t)
	p.pa.conn = rtpConn
	p.sa.SetRemote(p.pa.addr())
	p.sb.SetRemote(p.pb.addr())
	if _, err := NewBridge(p.sa, p.sb); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		p.pb.send(p.sb.LocalAddr(), 0, payloadOf(byte(i), FrameSamples))
		p.pa.recvRaw(waitLong)
	}
	for {
		raw := readRTCP(t, rtcpConn)
		// Decryption authenticates: a report in the clear fails here.
		dec, err := phoneIn.DecryptRTCP(nil, raw, nil)
		if err != nil {
			t.Fatalf("the phone cannot decrypt the report: %v", err)
		}
		pkts, err := rtcp.Unmarshal(dec)
		if err != nil {
			t.Fatal(err)
		}
		if sr, ok := pkts[0].(*rtcp.SenderReport); ok && sr.PacketCount == 10 {
			return
		}
	}
}
