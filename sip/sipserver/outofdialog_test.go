package sipserver

import (
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// OutOfDialog is asked for requests without a To tag only, and a false
// answer drops the request unanswered.
func TestOutOfDialogHook(t *testing.T) {
	var mu sync.Mutex
	var asked []netip.AddrPort
	admit := true
	s, err := New(Config{Addr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(testLogOut, nil)),
		OutOfDialog: func(src netip.AddrPort) bool {
			mu.Lock()
			defer mu.Unlock()
			asked = append(asked, src)
			return admit
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := net.Dial("udp", s.Addr("udp").String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := exchange(t, c, optionsMsg("ood-1"), 5*time.Second); !strings.HasPrefix(got, "SIP/2.0 200") {
		t.Fatalf("admitted OPTIONS: %q", got)
	}
	mu.Lock()
	if len(asked) != 1 || asked[0].String() != c.LocalAddr().String() {
		t.Fatalf("hook asked %v, want once for %s", asked, c.LocalAddr())
	}
	admit = false
	mu.Unlock()
	inDialog := strings.Replace(optionsMsg("ood-2"), "To: <sip:127.0.0.1>", "To: <sip:127.0.0.1>;tag=abc", 1)
	if got := exchange(t, c, inDialog, 5*time.Second); !strings.HasPrefix(got, "SIP/2.0 200") {
		t.Fatalf("in-dialog OPTIONS: %q", got)
	}
	if got := exchange(t, c, optionsMsg("ood-3"), 500*time.Millisecond); got != "" {
		t.Fatalf("refused OPTIONS answered: %q", got)
	}
	// The refused request gets no answer to wait for: wait for the hook.
	n := 0
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n = len(asked)
		mu.Unlock()
		if n >= 2 {
			break
		}
	}
	if n != 2 {
		t.Fatalf("hook asked %d times, want 2 (not for the in-dialog request)", n)
	}
}
