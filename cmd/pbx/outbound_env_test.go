package main

import (
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"pbx/dialplan"
)

// outCarrier is a carrier the pbx calls out through: it answers each
// INVITE with the status its test sets (200 with SDP by default) and
// hands every answered call to answered.
type outCarrier struct {
	*carrier
	mu       sync.Mutex
	status   int
	answered chan *carrierCall
}

func newOutCarrier(t *testing.T) *outCarrier {
	t.Helper()
	oc := &outCarrier{status: 200, answered: make(chan *carrierCall, 8)}
	oc.carrier = newCarrier(t, func(cc *carrierCall) {
		oc.mu.Lock()
		st := oc.status
		oc.mu.Unlock()
		if st != 200 {
			cc.respond(st, "Carrier says no", nil)
			return
		}
		cc.respond(200, "OK", cc.sdp(t))
		oc.answered <- cc
	})
	return oc
}

// answer makes the carrier answer the next INVITEs with status.
func (oc *outCarrier) answer(status int) {
	oc.mu.Lock()
	oc.status = status
	oc.mu.Unlock()
}

// nextAnswered waits for a call the carrier answered.
func (oc *outCarrier) nextAnswered(t *testing.T) *carrierCall {
	t.Helper()
	select {
	case cc := <-oc.answered:
		return cc
	case <-time.After(20 * time.Second):
		t.Fatalf("carrier %s answered no call", oc.addr)
		return nil
	}
}

// waitGone waits until the carrier's side of a call is hung up.
func (cc *carrierCall) waitGone(t *testing.T) {
	t.Helper()
	select {
	case <-cc.dlg.Context().Done():
	case <-time.After(20 * time.Second):
		t.Fatal("the carrier's call was not hung up")
	}
}

// silentCarrier is a carrier that is down: its socket takes INVITEs and
// never answers, not even 100 Trying.
type silentCarrier struct {
	conn    net.PacketConn
	invites chan struct{}
}

func newSilentCarrier(t *testing.T) *silentCarrier {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.2:0")
	if err != nil {
		t.Fatalf("no second loopback address (127.0.0.2): %v", err)
	}
	s := &silentCarrier{conn: conn, invites: make(chan struct{}, 64)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65536)
		for {
			n, _, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			if n > 7 && string(buf[:7]) == "INVITE " {
				select {
				case s.invites <- struct{}{}:
				default:
				}
			}
		}
	}()
	t.Cleanup(func() { conn.Close(); <-done })
	return s
}

func (s *silentCarrier) port() int { return s.conn.LocalAddr().(*net.UDPAddr).Port }

// outboundApp is a softswitch whose announcements of refused calls are
// tones a test can hear: the prompts of barring and anonymous rejection,
// in every language, are one-second tones.
func outboundApp(t *testing.T) *app {
	t.Helper()
	dir := t.TempDir()
	for _, lang := range []string{"en", "fr", "nl"} {
		if err := os.MkdirAll(filepath.Join(dir, lang), 0o755); err != nil {
			t.Fatal(err)
		}
		// vm-goodbye: the server checks for it to say whether prompts were built.
		for _, id := range []string{dialplan.PromptBarred, dialplan.PromptAnonymousRejected, "vm-goodbye"} {
			if err := os.WriteFile(filepath.Join(dir, lang, id+".wav"), toneWAV(time.Second), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return testApp(t, t.TempDir(), func(c *config) { c.Prompts = dir })
}

// addOutTrunk creates a trunk toward a carrier on 127.0.0.2:port.
func addOutTrunk(t *testing.T, a *app, name string, port int, extra map[string]any) string {
	t.Helper()
	body := map[string]any{"name": name, "host": "127.0.0.2", "port": port, "transport": "udp"}
	for k, v := range extra {
		body[k] = v
	}
	return apiCall(t, a, "POST", "/api/v1/trunks", body, 201)["id"].(string)
}

// heardAnnouncement fails t unless the refused caller was sent audio
// (the announcement, as early media) before its final response.
func heardAnnouncement(t *testing.T, pc *pcall) {
	t.Helper()
	if pc == nil || pc.rtp == nil {
		t.Fatal("no call to hear on")
	}
	if _, err := pc.rtp.recv(5 * time.Second); err != nil {
		t.Fatalf("the refused caller heard no announcement: %v", err)
	}
}
