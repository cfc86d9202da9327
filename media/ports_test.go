package media

import (
	"errors"
	"net"
	"net/netip"
	"testing"
	"time"
)

func TestPortPoolQuarantine(t *testing.T) {
	clock := time.Unix(1000, 0)
	p := newPortPool(10001, 10008, 5*time.Second) // pairs 10002, 10004, 10006
	p.now = func() time.Time { return clock }
	var got []int
	for {
		port, ok := p.take()
		if !ok {
			break
		}
		got = append(got, port)
	}
	if len(got) != 3 || got[0] != 10002 || got[2] != 10006 {
		t.Fatalf("pairs %v", got)
	}
	p.release(10004)
	if u, r, f := p.counts(); u != 2 || r != 1 || f != 0 {
		t.Fatalf("counts %d %d %d", u, r, f)
	}
	if _, ok := p.take(); ok {
		t.Fatal("resting pair handed out")
	}
	clock = clock.Add(5 * time.Second)
	if port, ok := p.take(); !ok || port != 10004 {
		t.Fatalf("after quarantine got %d %v", port, ok)
	}
}

func TestEngineSkipsBusyPorts(t *testing.T) {
	// Another process holds the first pair's RTCP port.
	busy, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: testPortMax - 2})
	if err != nil {
		t.Skip("cannot hold a test port:", err)
	}
	defer busy.Close()
	e, err := NewEngine(Config{
		BindIP: netip.MustParseAddr("127.0.0.1"), PortMin: testPortMax - 3, PortMax: testPortMax,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	s, err := e.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if got := s.LocalAddr().Port(); got != testPortMax-1 {
		t.Fatalf("got port %d, want %d", got, testPortMax-1)
	}
	if _, err := e.NewSession(); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("err %v, want ErrNoPorts", err)
	}
	if st := e.Stats(); st.PortsInUse != 2 || st.PortsResting != 2 || st.PortsFree != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestNewEngineRejectsBadRange(t *testing.T) {
	for _, r := range [][2]int{{20001, 20001}, {-5, 100}, {100, 70000}, {3001, 3002}} {
		if _, err := NewEngine(Config{PortMin: r[0], PortMax: r[1]}); err == nil {
			t.Errorf("range %v accepted", r)
		}
	}
	e, err := NewEngine(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if st := e.Stats(); st.PortsFree != DefaultPortMax-DefaultPortMin {
		t.Fatalf("default range: %+v", st)
	}
	e.Close()
}
