package main

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// rawUDP is a bare SIP socket: it sends hand-built requests and reads the
// responses, with no transaction layer to absorb retransmissions.
type rawUDP struct {
	conn *net.UDPConn
}

func newRawUDP(t *testing.T) *rawUDP {
	t.Helper()
	return &rawUDP{conn: listenLoopbackUDP(t)}
}

func (r *rawUDP) send(t *testing.T, to string, req *sip.Request) {
	t.Helper()
	port := r.conn.LocalAddr().(*net.UDPAddr).Port
	via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: "UDP", Host: "127.0.0.1", Port: port, Params: sip.NewParams()}
	via.Params.Add("branch", sip.GenerateBranch())
	req.PrependHeader(via)
	req.AppendHeader(sip.NewHeader("Max-Forwards", "70"))
	req.AppendHeader(sip.NewHeader("Content-Length", strconv.Itoa(len(req.Body()))))
	addr, err := net.ResolveUDPAddr("udp", to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.conn.WriteToUDP([]byte(req.String()), addr); err != nil {
		t.Fatal(err)
	}
}

// recv returns the next response, or nil after d.
func (r *rawUDP) recv(t *testing.T, d time.Duration) *sip.Response {
	t.Helper()
	buf := make([]byte, 65535)
	_ = r.conn.SetReadDeadline(time.Now().Add(d))
	n, _, err := r.conn.ReadFromUDP(buf)
	if err != nil {
		return nil
	}
	msg, err := sip.NewParser().ParseSIP(buf[:n])
	if err != nil {
		t.Fatalf("unparsable answer: %v", err)
	}
	res, ok := msg.(*sip.Response)
	if !ok {
		t.Fatalf("got a request: %s", msg.String())
	}
	return res
}

// A phone that misses the 200 OK to its re-INVITE gets it again until it
// sends the ACK (RFC 3261 §13.3.1.4), and no more after.
func TestCallReinvite2xxRetransmittedUntilAck(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202")
	alice, bob := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp")
	out, in := connect(t, alice, bob, "202", "0 101")

	// Alice's re-INVITE (hold), sent from a bare socket that "loses" the
	// 200s until it decides to acknowledge.
	d := out.uac
	cseq := d.InviteRequest.CSeq().SeqNo + 10
	build := func(method sip.RequestMethod) *sip.Request {
		req := sip.NewRequest(method, out.remoteContact())
		req.AppendHeader(sip.HeaderClone(d.InviteRequest.From()))
		req.AppendHeader(sip.HeaderClone(d.InviteResponse.To()))
		req.AppendHeader(sip.HeaderClone(d.InviteRequest.CallID()))
		req.AppendHeader(&sip.CSeqHeader{SeqNo: cseq, MethodName: method})
		req.AppendHeader(sip.HeaderClone(d.InviteRequest.Contact()))
		return req
	}
	raw := newRawUDP(t)
	reinvite := build(sip.INVITE)
	reinvite.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	reinvite.SetBody(out.localSDP("0 8 101", "sendonly"))
	raw.send(t, alice.target, reinvite)

	oks := 0
	for oks < 3 {
		res := raw.recv(t, 10*time.Second)
		if res == nil {
			t.Fatalf("got %d 200 OK to the re-INVITE, want at least 3 before the ACK", oks)
		}
		if res.StatusCode == 100 {
			continue
		}
		if res.StatusCode != 200 || res.CSeq().SeqNo != cseq {
			t.Fatalf("unexpected answer %s", res.StartLine())
		}
		if sdp, err := parseTestSDP(string(res.Body())); err != nil || sdp.dir != "recvonly" {
			t.Fatalf("hold answered with %q (%v)", sdp.dir, err)
		}
		oks++
	}
	raw.send(t, alice.target, build(sip.ACK))
	// A retransmission the pbx sent as the ACK was on its way may still
	// arrive at once; after that, none: the next would come T2 (4 s) later.
	if res := raw.recv(t, 300*time.Millisecond); res != nil && (res.StatusCode != 200 || res.CSeq().SeqNo != cseq) {
		t.Fatalf("unexpected answer %s", res.StartLine())
	}
	if res := raw.recv(t, 2*sip.T2); res != nil {
		t.Fatalf("answer after the ACK: %s", res.StartLine())
	}
	if !bobHearsMusic(t, in) {
		t.Fatal("bob does not hear hold music after alice's hold")
	}
	endCall(t, a, out, in)
}

// bobHearsMusic reports whether RTP arrives at in while nobody sends to it
// from the other side (the held party's music).
func bobHearsMusic(t *testing.T, in *pcall) bool {
	t.Helper()
	in.rtp.drain()
	for range 3 {
		if p, err := in.rtp.recv(2 * time.Second); err == nil && len(p.Payload) > 0 {
			return true
		}
	}
	return false
}

// An offerless re-INVITE gets the pbx's offer in the 200; the answer in the
// ACK is applied: answered sendonly, the other party hears hold music and
// nothing of the holder; answered sendrecv, they talk again.
func TestCallOfferlessReinvite(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202")
	alice, bob := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp")
	out, in := connect(t, alice, bob, "202", "0 101")
	if offer := in.reinviteDelayed(t, "sendonly"); !strings.Contains(offer, "a=sendrecv") {
		t.Fatalf("the pbx's offer in the 200:\n%s", offer)
	}
	// The hold starts when the pbx has the ACK: once the music plays.
	if !bobHearsMusic(t, out) {
		t.Fatal("alice hears no music while bob holds")
	}
	requireMusic(t, in, out, 30, 10, "alice got %d of bob's frames and %d others (the music)")
	in.reinviteDelayed(t, "sendrecv")
	// The resume, too, starts when the pbx has the ACK.
	for attempt := 0; ; attempt++ {
		frames := randomFrames(20)
		if match, _ := countExact(frames, stream(t, in, out, 0, 0, frames)); match >= 15 {
			break
		}
		if attempt == 10 {
			t.Fatal("alice does not hear bob after he resumed")
		}
	}
	requireRelayBoth(t, out, in, 20, 15, "bob received %d of 20 frames", "alice received %d of 20 frames")
	endCall(t, a, out, in)
}
