package sipserver

import (
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

const register = "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/%s 127.0.0.1:9;branch=z9hG4bK-1;rport\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:a@x>\r\n" +
	"Call-ID: r1\r\nCSeq: 1 REGISTER\r\nContact: <sip:a@127.0.0.1:9>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"

// A method handled with HandleStateless is answered over UDP without any
// sipgo transaction: the handler's tx is none of sipgo's, its answer
// (through Respond, not only RespondStateless) goes to the source, and a
// retransmission reaches the handler again. Over TCP the same handler runs
// in a sipgo transaction. A request without the mandatory headers gets a
// 400 and never reaches the handler.
func TestHandleStatelessUDP(t *testing.T) {
	s, err := New(Config{Addr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(testLogOut, nil))})
	if err != nil {
		t.Fatal(err)
	}
	var calls, sipgoTx atomic.Int32
	s.HandleStateless(sip.REGISTER, func(req *sip.Request, tx sip.ServerTransaction) {
		calls.Add(1)
		if u, ok := tx.(interface{ Unwrap() sip.ServerTransaction }); ok {
			if _, ok := u.Unwrap().(*sip.ServerTx); ok {
				sipgoTx.Add(1)
			}
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := net.Dial("udp", s.Addr("udp").String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := strings.Replace(register, "%s", "UDP", 1)
	for i := 0; i < 2; i++ {
		got := exchange(t, c, msg, 5*time.Second)
		if !strings.HasPrefix(got, "SIP/2.0 200") || !strings.Contains(got, "received=127.0.0.1") {
			t.Fatalf("answer %d: %q", i, got)
		}
	}
	if calls.Load() != 2 || sipgoTx.Load() != 0 {
		t.Fatalf("over UDP: %d handler runs, %d in sipgo transactions; want 2, 0", calls.Load(), sipgoTx.Load())
	}
	if n := testutilCount(s, "REGISTER", "2xx"); n != 2 {
		t.Fatalf("%v 2xx counted, want 2", n)
	}
	if got := exchange(t, c, "REGISTER sip:127.0.0.1 SIP/2.0\r\nCSeq: 1 REGISTER\r\n\r\n", 5*time.Second); !strings.HasPrefix(got, "SIP/2.0 400") {
		t.Fatalf("a REGISTER without Via was answered %q", got)
	}
	if calls.Load() != 2 {
		t.Fatalf("the handler ran for a REGISTER without Via")
	}

	tc, err := net.Dial("tcp", s.Addr("tcp").String())
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	if got := exchange(t, tc, strings.Replace(msg, "SIP/2.0/UDP", "SIP/2.0/TCP", 1), 5*time.Second); !strings.HasPrefix(got, "SIP/2.0 200") {
		t.Fatalf("over TCP: %q", got)
	}
	if calls.Load() != 3 || sipgoTx.Load() != 1 {
		t.Fatalf("over TCP: %d handler runs, %d in sipgo transactions; want 3, 1", calls.Load(), sipgoTx.Load())
	}
}

// Answers go where RFC 3261 §18.2.2 and RFC 3581 say: the source port
// when the Via asks for rport, else the Via's sent-by port at the source
// address.
func TestStatelessResponseAddr(t *testing.T) {
	src := netip.MustParseAddrPort("192.0.2.7:40000")
	for via, want := range map[string]string{
		"SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK1;rport": "192.0.2.7:40000",
		"SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK1":       "192.0.2.7:5062",
		"SIP/2.0/UDP 10.0.0.5;branch=z9hG4bK1":            "192.0.2.7:5060",
	} {
		msg, err := sip.ParseMessage([]byte("REGISTER sip:pbx.test SIP/2.0\r\nVia: " + via + "\r\nFrom: <sip:a@pbx.test>;tag=1\r\nTo: <sip:a@pbx.test>\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		if got := responseAddr(msg.(*sip.Request), src); got.String() != want {
			t.Errorf("Via %s: answer to %s, want %s", via, got, want)
		}
	}
}
