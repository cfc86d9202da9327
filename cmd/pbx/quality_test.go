package main

import (
	"math"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// sendRTCP writes one compound RTCP packet from the phone's RTCP socket to
// the pbx's RTCP port for its media address pbx.
func sendRTCP(t *testing.T, c *net.UDPConn, pbx netip.AddrPort, pkts ...rtcp.Packet) {
	t.Helper()
	b, err := rtcp.Marshal(pkts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WriteToUDPAddrPort(b, netip.AddrPortFrom(pbx.Addr(), pbx.Port()+1)); err != nil {
		t.Fatal(err)
	}
}

// nextSenderReport reads the phone's RTCP socket until a sender report
// arrives whose count has reached atLeast packets.
func nextSenderReport(t *testing.T, c *net.UDPConn, atLeast uint32) *rtcp.SenderReport {
	t.Helper()
	buf := make([]byte, 1500)
	deadline := time.Now().Add(20 * time.Second)
	for {
		_ = c.SetReadDeadline(deadline)
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("no RTCP sender report from the pbx: %v", err)
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			t.Fatalf("the pbx's RTCP does not parse: %v", err)
		}
		if sr, ok := pkts[0].(*rtcp.SenderReport); ok && sr.PacketCount >= atLeast {
			return sr
		}
	}
}

// TestCallRTCPAndQuality: during a call the phones receive RTCP sender
// reports in the pbx's own SSRC counting what the pbx sent them, with a
// reception block on their own stream (10% of the caller's packets are
// never sent: its block says so). After the hang-up the CDR holds each
// leg's loss, jitter and MOS, and /metrics counts the RTP and the legs.
func TestCallRTCPAndQuality(t *testing.T) {
	a := testApp(t, t.TempDir(), func(c *config) { c.RTCPInterval = 100 * time.Millisecond })
	accs := seedTenant(t, a, "Quality", "201", "202")
	caller, callee := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp")
	out, in := connect(t, caller, callee, "202", "0")
	rtcpOut, rtcpIn := listenLoopbackUDP(t), listenLoopbackUDP(t)

	const n = 50
	frame := make([]byte, 160)
	var fromPBX [2]uint32 // SSRC the pbx sends to the caller, the callee
	var got [2]int
	var lastCallerSeq uint16
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := range n {
		<-tick.C
		if i%10 == 4 {
			out.rtp.seq++ // injected loss: this packet is never sent
			out.rtp.ts += 160
		} else if err := out.rtp.send(out.remote, 0, false, frame, 160); err != nil {
			t.Fatal(err)
		}
		lastCallerSeq = out.rtp.seq
		if err := in.rtp.send(in.remote, 0, false, frame, 160); err != nil {
			t.Fatal(err)
		}
		for j, end := range []*rtpEnd{out.rtp, in.rtp} {
			if p, err := end.recv(2 * time.Second); err == nil {
				fromPBX[j] = p.SSRC
				got[j]++
			}
		}
	}
	// A phone's own reports latch the pbx's RTCP on its socket.
	sendRTCP(t, rtcpOut, out.remote, &rtcp.ReceiverReport{SSRC: out.rtp.ssrc, Reports: []rtcp.ReceptionReport{{SSRC: fromPBX[0]}}})
	sendRTCP(t, rtcpIn, in.remote, &rtcp.ReceiverReport{SSRC: in.rtp.ssrc, Reports: []rtcp.ReceptionReport{{SSRC: fromPBX[1]}}})
	for j, c := range []struct {
		name       string
		conn       *net.UDPConn
		own        uint32
		lost       uint32
		lastSeq    uint16
		sentToSide int
	}{{"caller", rtcpOut, out.rtp.ssrc, n / 10, lastCallerSeq, n}, {"callee", rtcpIn, in.rtp.ssrc, 0, in.rtp.seq, n - n/10}} {
		sr := nextSenderReport(t, c.conn, uint32(got[j]))
		if sr.SSRC != fromPBX[j] {
			t.Errorf("%s: sender report from SSRC %08x, its RTP comes from %08x", c.name, sr.SSRC, fromPBX[j])
		}
		if int(sr.PacketCount) > c.sentToSide || sr.OctetCount != sr.PacketCount*160 {
			t.Errorf("%s: sender report counts %d packets, %d octets; %d were sent towards it, %d received", c.name, sr.PacketCount, sr.OctetCount, c.sentToSide, got[j])
		}
		if len(sr.Reports) != 1 {
			t.Fatalf("%s: %d reception blocks, want 1", c.name, len(sr.Reports))
		}
		rb := sr.Reports[0]
		if rb.SSRC != c.own || rb.TotalLost != c.lost || uint16(rb.LastSequenceNumber) != c.lastSeq {
			t.Errorf("%s: reception block %+v, want SSRC %08x, %d lost, highest seq %d", c.name, rb, c.own, c.lost, c.lastSeq)
		}
	}
	endCall(t, a, out, in)

	cdrs := waitCDR(t, a, accs[0].tenant.ID, 1)
	cq, ce := cdrs[0].CallerQuality, cdrs[0].CalleeQuality
	if math.Abs(cq.LossPercent-10) > 0.01 || cq.MOS < 1 || cq.MOS > 3.6 {
		t.Errorf("caller leg quality %+v, want 10%% loss and a MOS that shows it", cq)
	}
	if ce.LossPercent != 0 || ce.MOS < 4 {
		t.Errorf("callee leg quality %+v, want no loss and a good MOS", ce)
	}
	if v := metricValue(t, a, "pbx_rtp_packets_total"); v < float64(n+n-n/10) {
		t.Errorf("pbx_rtp_packets_total %v, want at least the %d packets the phones sent", v, n+n-n/10)
	}
	if v := metricValue(t, a, "pbx_rtp_bytes_total"); v < float64((n+n-n/10)*(12+160)) {
		t.Errorf("pbx_rtp_bytes_total %v", v)
	}
	for _, h := range []string{"pbx_call_leg_loss_percent_count", "pbx_call_leg_jitter_ms_count", "pbx_call_leg_mos_count"} {
		if v := metricValue(t, a, h); v != 2 {
			t.Errorf("%s %v, want one per leg (2)", h, v)
		}
	}
	if v := metricValue(t, a, "pbx_call_leg_loss_percent_sum"); math.Abs(v-10) > 0.01 {
		t.Errorf("pbx_call_leg_loss_percent_sum %v, want 10", v)
	}
}
