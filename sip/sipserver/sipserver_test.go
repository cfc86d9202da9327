package sipserver

import (
	"crypto/rand"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

func startServer(t *testing.T, blocked func(netip.Addr) bool) *Server {
	t.Helper()
	s, err := New(Config{Addr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(testLogOut, nil)), Blocked: blocked})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// exchange sends a datagram and returns the answer, or "" after a timeout.
func exchange(t *testing.T, c net.Conn, msg string, wait time.Duration) string {
	t.Helper()
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		return ""
	}
	return string(buf[:n])
}

const options = "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-%s;rport\r\nFrom: <sip:t@x>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: %s\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"

func optionsMsg(id string) string {
	return strings.ReplaceAll(options, "%s", id)
}

func TestGarbageNeverStopsAnswers(t *testing.T) {
	s := startServer(t, nil)
	c, err := net.Dial("udp", s.Addr("udp").String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 1400)
	for i := 0; i < 500; i++ {
		rand.Read(buf[:1+i%1400])
		c.Write(buf[:1+i%1400])
	}
	for _, g := range []string{"INVITE sip:x SIP/2.0\r\n", "\r\n\r\n", "SIP/2.0 200 OK\r\n\r\n", strings.Repeat("A", 60000),
		"REGISTER sip:x SIP/2.0\r\nVia: " + strings.Repeat("x", 5000) + "\r\n\r\n"} {
		c.Write([]byte(g))
	}
	tc, err := net.Dial("tcp", s.Addr("tcp").String())
	if err != nil {
		t.Fatal(err)
	}
	rand.Read(buf)
	tc.Write(buf)
	tc.Close()
	// Like a real UA, retransmit: a datagram may be lost when the flood
	// filled the socket buffer, but the server must answer again.
	var got string
	for i := 0; i < 10 && got == ""; i++ {
		got = exchange(t, c, optionsMsg("after-garbage"), time.Second)
	}
	if !strings.HasPrefix(got, "SIP/2.0 200 OK") {
		t.Fatalf("OPTIONS after garbage: %q", got)
	}
	if s.Metrics.ParseErrors == nil {
		t.Fatal("no parse error metric")
	}
}

func TestUnparsableRequestGets400(t *testing.T) {
	s := startServer(t, nil)
	c, err := net.Dial("udp", s.Addr("udp").String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	bad := strings.Replace(optionsMsg("bad-cseq"), "CSeq: 1 OPTIONS", "CSeq: one OPTIONS", 1)
	got := exchange(t, c, bad, 5*time.Second)
	if !strings.HasPrefix(got, "SIP/2.0 400 ") || !strings.Contains(got, "Call-ID: bad-cseq") {
		t.Fatalf("want 400 with the request's Call-ID, got %q", got)
	}
	missing := strings.Replace(optionsMsg("no-cseq"), "CSeq: 1 OPTIONS\r\n", "", 1)
	if got := exchange(t, c, missing, 5*time.Second); !strings.HasPrefix(got, "SIP/2.0 400 ") {
		t.Fatalf("missing CSeq: want 400, got %q", got)
	}
	// A malformed response is never answered.
	if got := exchange(t, c, "SIP/2.0 200 OK\r\nVia: x\r\nCSeq: nope\r\n\r\n", 300*time.Millisecond); got != "" {
		t.Fatalf("answered a response: %q", got)
	}
}

func TestBlockedSourceIsDropped(t *testing.T) {
	s := startServer(t, func(ip netip.Addr) bool { return ip.String() == "127.0.0.1" })
	c, err := net.Dial("udp", s.Addr("udp").String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := exchange(t, c, optionsMsg("blocked"), 500*time.Millisecond); got != "" {
		t.Fatalf("blocked source answered: %q", got)
	}
}

var testLogOut io.Writer = io.Discard

// New raises sipgo's UDP size limit so that large INVITEs still go out.
func TestNewRaisesUDPMTU(t *testing.T) {
	s, err := New(Config{Addr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if sip.UDPMTUSize < UDPMTUSize {
		t.Fatalf("sip.UDPMTUSize = %d, want at least %d", sip.UDPMTUSize, UDPMTUSize)
	}
}

// TestUnparsable400FollowsTheVia: without rport the 400 goes to the Via's
// port only when that is where the request came from; a Via naming another
// host gets nothing (the request's headers are not sent to a third party).
func TestUnparsable400FollowsTheVia(t *testing.T) {
	s := startServer(t, nil)
	c, err := net.Dial("udp", s.Addr("udp").String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	port := c.LocalAddr().(*net.UDPAddr).Port
	bad := func(via string) string {
		m := strings.Replace(optionsMsg("via-"+via), "CSeq: 1 OPTIONS", "CSeq: x OPTIONS", 1)
		return strings.Replace(m, "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-via-"+via+";rport", "Via: SIP/2.0/UDP "+via+";branch=z9hG4bK-1", 1)
	}
	own := "127.0.0.1:" + strconv.Itoa(port)
	if got := exchange(t, c, bad(own), 5*time.Second); !strings.HasPrefix(got, "SIP/2.0 400 ") {
		t.Fatalf("Via %s: want 400, got %q", own, got)
	}
	for _, via := range []string{"192.0.2.1:5060", "127.0.0.1:9"} {
		if got := exchange(t, c, bad(via), 300*time.Millisecond); got != "" {
			t.Fatalf("Via %s: answered %q", via, got)
		}
	}
}
