package sipserver

import (
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// While the node drains, a dispatcher's OPTIONS probe gets 503 with
// Retry-After; an OPTIONS inside a dialog (a keepalive) still gets 200.
func TestOptionsWhileDraining(t *testing.T) {
	s := startServer(t, nil)
	c, err := net.Dial("udp", s.Addr("udp").String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var draining atomic.Bool
	s.SetDraining(func() (time.Duration, bool) { return 90 * time.Second, draining.Load() })
	if got := exchange(t, c, optionsMsg("before"), 5*time.Second); !strings.HasPrefix(got, "SIP/2.0 200") {
		t.Fatalf("before draining: %q", got)
	}
	draining.Store(true)
	got := exchange(t, c, optionsMsg("during"), 5*time.Second)
	if !strings.HasPrefix(got, "SIP/2.0 503") || !strings.Contains(got, "Retry-After: 90\r\n") {
		t.Fatalf("while draining: %q", got)
	}
	inDialog := strings.Replace(optionsMsg("in-dialog"), "To: <sip:127.0.0.1>", "To: <sip:127.0.0.1>;tag=abc", 1)
	if got := exchange(t, c, inDialog, 5*time.Second); !strings.HasPrefix(got, "SIP/2.0 200") {
		t.Fatalf("in-dialog while draining: %q", got)
	}
	s.SetDraining(nil)
	if got := exchange(t, c, optionsMsg("unhooked"), 5*time.Second); !strings.HasPrefix(got, "SIP/2.0 200") {
		t.Fatalf("without a hook: %q", got)
	}
}
