package main

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// A BYE is answered without a transaction kept for Timer J: its
// retransmission (our 200 lost) still gets a 200, from the key the ended
// dialog leaves for 64*T1, while a BYE for a dialog that never was gets
// 481.
func TestCallByeRetransmissionAnswered(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202")
	alice, bob := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp")
	out, in := connect(t, alice, bob, "202", "0 101")

	raw, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	port := raw.LocalAddr().(*net.UDPAddr).Port
	dlg := out.uac
	toTag, _ := dlg.InviteResponse.To().Params.Get("tag")
	bye := func(branch, tag string) string {
		return fmt.Sprintf("BYE %s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-%s;rport\r\nMax-Forwards: 70\r\n"+
			"From: %s\r\nTo: <%s>;tag=%s\r\nCall-ID: %s\r\nCSeq: %d BYE\r\nContent-Length: 0\r\n\r\n",
			dlg.InviteResponse.Contact().Address.String(), port, branch, dlg.InviteRequest.From().Value(),
			dlg.InviteResponse.To().Address.String(), tag, dlg.InviteRequest.CallID().Value(), dlg.CSEQ()+1)
	}
	send := func(msg string) string {
		t.Helper()
		if _, err := raw.WriteTo([]byte(msg), a.sip.Addr("udp")); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 65535)
		for {
			_ = raw.SetReadDeadline(time.Now().Add(10 * time.Second))
			n, _, err := raw.ReadFrom(buf)
			if err != nil {
				t.Fatalf("no answer to\n%s", msg)
			}
			if got := string(buf[:n]); !strings.HasPrefix(got, "SIP/2.0 1") {
				return got
			}
		}
	}
	msg := bye("bye-1", toTag)
	if got := send(msg); !strings.HasPrefix(got, "SIP/2.0 200 ") {
		t.Fatalf("BYE answered %q", got)
	}
	out.markEnded()
	in.waitEnded(t)
	waitIdle(t, a)
	if got := send(msg); !strings.HasPrefix(got, "SIP/2.0 200 ") {
		t.Fatalf("the retransmitted BYE, once the call is gone, was answered %q", got)
	}
	if got := send(bye("bye-2", toTag+"x")); !strings.HasPrefix(got, "SIP/2.0 481 ") {
		t.Fatalf("a BYE for no dialog was answered %q", got)
	}
}
