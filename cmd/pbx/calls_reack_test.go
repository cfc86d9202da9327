package main

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"pbx/callctl"
)

// A callee whose 2xx comes again after the pbx's INVITE transaction has
// ended (its ACK lost, as the callee sees it) gets the ACK again: the
// dialog answers the retransmission that no transaction waits for any
// more.
func TestCallRetransmitted2xxAcknowledgedAgain(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201")
	alice := newSoftphone(t, a, accs[0], "udp")
	callee := listenLoopbackUDP(t)
	calleeAddr := callee.LocalAddr().(*net.UDPAddr)
	dialProgram(t, a, func() callctl.DialSpec {
		return callctl.DialSpec{Destinations: []callctl.Destination{{Targets: []callctl.Target{
			{URI: fmt.Sprintf("sip:300@%s", calleeAddr), Transport: "udp"}}}}}
	})
	call := startDial(t, alice, "300", dialOpt{})

	// next reads the next request of method from the pbx, skipping
	// anything else.
	next := func(method sip.RequestMethod) (*sip.Request, *net.UDPAddr) {
		t.Helper()
		buf := make([]byte, 65535)
		for {
			_ = callee.SetReadDeadline(time.Now().Add(20 * time.Second))
			n, from, err := callee.ReadFromUDP(buf)
			if err != nil {
				t.Fatalf("the callee got no %s: %v", method, err)
			}
			msg, err := sip.NewParser().ParseSIP(buf[:n])
			if err != nil {
				t.Fatalf("unparsable: %v", err)
			}
			if req, ok := msg.(*sip.Request); ok && req.Method == method {
				return req, from
			}
		}
	}
	invite, pbx := next(sip.INVITE)
	ok := sip.NewResponseFromRequest(invite, 200, "OK", []byte(fmt.Sprintf("v=0\r\no=callee 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"+
		"c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n",
		calleeAddr.Port+2)))
	ok.To().Params.Add("tag", "callee-1")
	ok.AppendHeader(sip.NewHeader("Contact", fmt.Sprintf("<sip:300@%s>", calleeAddr)))
	ok.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	send := func() {
		t.Helper()
		if _, err := callee.WriteToUDP([]byte(ok.String()), pbx); err != nil {
			t.Fatal(err)
		}
	}
	send()
	ack, _ := next(sip.ACK)
	out := call.wait(t)

	// Past the time the INVITE's client transaction lingers after its 2xx.
	time.Sleep(sip.Timer_M + time.Second)
	send()
	again, _ := next(sip.ACK)
	if again.CSeq().SeqNo != invite.CSeq().SeqNo || again.CallID().Value() != invite.CallID().Value() {
		t.Fatalf("ACK again:\n%s\nafter the first:\n%s", again.String(), ack.String())
	}
	if tag, _ := again.To().Params.Get("tag"); tag != "callee-1" {
		t.Fatalf("ACK again to tag %q", tag)
	}

	// Alice hangs up; the pbx's BYE to the callee is answered.
	go func() { _ = out.bye() }()
	bye, _ := next(sip.BYE)
	if _, err := callee.WriteToUDP([]byte(sip.NewResponseFromRequest(bye, 200, "OK", nil).String()), pbx); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, a)
}

// A caller that never acknowledges the pbx's 2xx: the pbx retransmits it
// for 64*T1, no longer (its transaction has long ended by then), then
// ends the call with a BYE to both parties (RFC 3261 §13.3.1.4), and
// nothing of the call is left.
func TestCallAnswerNeverAcknowledged(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202")
	alice, bob := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp")
	got200, sendAck := make(chan *pcall, 1), make(chan struct{})
	release := sync.OnceFunc(func() { close(sendAck) })
	defer release()
	call := startDial(t, alice, "202", dialOpt{beforeAck: func(pc *pcall) {
		got200 <- pc
		<-sendAck
	}})
	in := bob.nextIncoming(t)
	in.answer(t, "0 101")
	var out *pcall
	select {
	case out = <-got200:
	case <-time.After(20 * time.Second):
		t.Fatal("the caller got no 200 OK")
	}
	answered := time.Now()
	limit := 64*sip.T1 + 20*time.Second
	for _, pc := range []*pcall{in, out} {
		select {
		case <-pc.ended:
		case <-time.After(time.Until(answered.Add(limit))):
			t.Fatalf("call %s still up %s after the unacknowledged 2xx", pc.callID, limit)
		}
	}
	if d := time.Since(answered); d < 64*sip.T1-sip.T1 {
		t.Fatalf("the pbx gave up %s after its 2xx, before 64*T1", d)
	}
	waitIdle(t, a)
	release()
	_, _ = call.result() // its late ACK matches nothing
}
