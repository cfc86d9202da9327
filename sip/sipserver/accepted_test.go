package sipserver

import (
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// An INVITE answered 2xx: its transaction ends acceptedLinger after the
// 2xx, not 64*T1; the 2xx can still be retransmitted after that, and a
// retransmission of the INVITE is still absorbed (the handler does not see
// it again as a new call).
func TestAnsweredInviteEndsEarlyAndStillAbsorbs(t *testing.T) {
	s, err := New(Config{Addr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(testLogOut, nil))})
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	resent := make(chan error, 1)
	s.Handle(sip.INVITE, func(req *sip.Request, tx sip.ServerTransaction) {
		if calls.Add(1) != 1 {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
			return
		}
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		if err := tx.Respond(res); err != nil {
			resent <- err
			return
		}
		select {
		case <-innerTx(tx).Done():
		case <-time.After(acceptedLinger + 20*time.Second):
			resent <- errTestTimeout
			return
		}
		resent <- tx.Respond(res) // as the dialog layer retransmits it
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
	first := strings.ReplaceAll(invite, "%s", "accepted-1")
	if got := exchange(t, c, first, 5*time.Second); !strings.HasPrefix(got, "SIP/2.0 200") {
		t.Fatalf("answer: %q", got)
	}
	if err := <-resent; err != nil {
		t.Fatalf("retransmitting the 2xx once the transaction ended: %v", err)
	}
	if got := read(c, 5*time.Second); !strings.HasPrefix(got, "SIP/2.0 200") || !strings.Contains(got, "accepted-1") {
		t.Fatalf("the retransmitted 2xx: %q", got)
	}
	// The INVITE again, its transaction gone; then another call, whose
	// answer comes after the retransmission was handled.
	if _, err := c.Write([]byte(first)); err != nil {
		t.Fatal(err)
	}
	if got := exchange(t, c, strings.ReplaceAll(invite, "%s", "accepted-2"), 5*time.Second); !strings.HasPrefix(got, "SIP/2.0 200") || !strings.Contains(got, "accepted-2") {
		t.Fatalf("the next call was answered %q (the retransmitted INVITE must get nothing)", got)
	}
	if n := calls.Load(); n != 2 {
		t.Fatalf("the handler ran %d times for two calls and a retransmission, want 2", n)
	}
}

var errTestTimeout = errTimeout("the transaction did not end")

type errTimeout string

func (e errTimeout) Error() string { return string(e) }

func read(c net.Conn, wait time.Duration) string {
	c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		return ""
	}
	return string(buf[:n])
}

// A 2xx is retransmitted for 64*T1 after it was first sent, not longer:
// sipgo's dialog layer stops only when the transaction refuses it.
func TestRetransmitAnswerStopsAfter64T1(t *testing.T) {
	tx := &countingResponds{}
	res := sip.NewResponseFromRequest(sip.NewRequest(sip.INVITE, sip.Uri{Host: "x"}), 200, "OK", nil)
	if err := retransmitAnswer(tx, res, time.Now().Add(-63*sip.T1)); err != nil || tx.n != 1 {
		t.Fatalf("within 64*T1: %v, %d sent", err, tx.n)
	}
	if err := retransmitAnswer(tx, res, time.Now().Add(-64*sip.T1)); err != errAnswerUnacknowledged || tx.n != 1 {
		t.Fatalf("after 64*T1: %v, %d sent", err, tx.n)
	}
}

// countingResponds is a transaction that is not sipgo's: it counts what
// it is asked to send.
type countingResponds struct {
	sip.ServerTransaction
	n int
}

func (c *countingResponds) Respond(*sip.Response) error {
	c.n++
	return nil
}
