package sipauth

import (
	"bytes"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRequestRate(t *testing.T) {
	now := time.Unix(1000, 0)
	var logs bytes.Buffer
	g := NewGuard(GuardConfig{MaxRequestsPerSource: 10, RequestWindow: 5 * time.Second, RateBanTime: time.Minute},
		slog.New(slog.NewTextHandler(&logs, nil)))
	g.SetClock(func() time.Time { return now })
	var mu sync.Mutex
	var bans []string
	g.OnBan = func(kind, key string) { mu.Lock(); bans = append(bans, kind+" "+key); mu.Unlock() }
	office := netip.MustParseAddrPort("192.0.2.7:5060")
	asked := 0
	g.Exempt = func(src netip.AddrPort) bool { asked++; return src.Addr() == office.Addr() }
	scanner := netip.MustParseAddrPort("[::ffff:198.51.100.9]:5060")
	slow := netip.MustParseAddrPort("203.0.113.5:5060")

	for i := 0; i < 10; i++ {
		if !g.Request(scanner) {
			t.Fatalf("request %d under the limit refused", i+1)
		}
	}
	// A source at the limit in every window is never banned.
	for w := 0; w < 3; w++ {
		for i := 0; i < 10; i++ {
			if !g.Request(slow) {
				t.Fatalf("window %d: request %d of a source at the limit refused", w, i+1)
			}
		}
		now = now.Add(5 * time.Second)
	}
	now = now.Add(-15 * time.Second)
	if g.Request(scanner) {
		t.Fatal("the 11th request within the window was admitted")
	}
	for i := 0; i < 100; i++ {
		if g.Request(scanner) {
			t.Fatal("a banned source's request was admitted")
		}
	}
	if !g.RateBanned(netip.MustParseAddr("198.51.100.9")) {
		t.Fatal("RateBanned: the scanner is not banned")
	}
	// The office over the limit is exempt, and asked once per window.
	for i := 0; i < 1000; i++ {
		if !g.Request(office) {
			t.Fatalf("exempt source refused at request %d", i+1)
		}
	}
	if g.RateBanned(office.Addr()) {
		t.Fatal("exempt source banned")
	}
	if asked != 2 { // the scanner once, the office once
		t.Fatalf("Exempt asked %d times, want 2", asked)
	}
	if len(bans) != 1 || bans[0] != "rate 198.51.100.9" {
		t.Fatalf("bans %q, want one rate ban of the scanner", bans)
	}
	if n := strings.Count(logs.String(), "sip source banned"); n != 1 || !strings.Contains(logs.String(), "source=198.51.100.9") {
		t.Fatalf("ban logged %d times: %s", n, logs.String())
	}
	// The ban ends after RateBanTime.
	now = now.Add(time.Minute)
	if g.RateBanned(scanner.Addr()) || !g.Request(scanner) {
		t.Fatal("the ban outlived RateBanTime")
	}
}

func TestRequestRateDisabled(t *testing.T) {
	g := NewGuard(GuardConfig{}, nil)
	src := netip.MustParseAddrPort("198.51.100.9:5060")
	for i := 0; i < 10000; i++ {
		if !g.Request(src) {
			t.Fatal("a request was refused with the rule disabled")
		}
	}
}

// While the Exempt hook is being asked about a source, its other requests
// are admitted without asking again; the answer then decides.
func TestRequestRateAsksOnce(t *testing.T) {
	now := time.Unix(1000, 0)
	g := NewGuard(GuardConfig{MaxRequestsPerSource: 3, RequestWindow: time.Minute}, nil)
	g.SetClock(func() time.Time { return now })
	var asked atomic.Int32
	release := make(chan struct{})
	g.Exempt = func(netip.AddrPort) bool { asked.Add(1); <-release; return false }
	src := netip.MustParseAddrPort("198.51.100.9:5060")
	for i := 0; i < 3; i++ {
		g.Request(src)
	}
	first := make(chan bool)
	go func() { first <- g.Request(src) }()
	for asked.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	for i := 0; i < 5; i++ {
		if !g.Request(src) {
			t.Fatal("a request was refused while the source was being looked into")
		}
	}
	close(release)
	if <-first {
		t.Fatal("the request over the limit was admitted for a source not exempt")
	}
	if g.Request(src) || asked.Load() != 1 {
		t.Fatalf("after the answer: admitted, or Exempt asked %d times", asked.Load())
	}
}
