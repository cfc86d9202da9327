package main

import (
	"context"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// optionsProbe sends an out-of-dialog OPTIONS to the pbx, as a
// dispatcher does, and returns the answer.
func optionsProbe(t *testing.T, p *phone) *sip.Response {
	t.Helper()
	host, port, _ := net.SplitHostPort(p.target)
	n, _ := strconv.Atoi(port)
	req := sip.NewRequest(sip.OPTIONS, sip.Uri{Scheme: "sip", Host: host, Port: n})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := p.client.Do(ctx, req)
	if err != nil {
		t.Fatalf("OPTIONS: %v", err)
	}
	return res
}

// Draining: new calls and a dispatcher's probes get 503 with Retry-After,
// while the call in progress keeps its media, is held and resumed, and
// hangs up normally; then the node is idle.
func TestDrain(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202", "203")
	alice, bob, carol := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "tcp"), newSoftphone(t, a, accs[2], "udp")
	if res := optionsProbe(t, carol.phone); res.StatusCode != 200 {
		t.Fatalf("OPTIONS before draining: %s", res.StartLine())
	}
	out, in := connect(t, alice, bob, "202", "0 101")
	b := a.calls.b2bua
	b.Drain()
	if !b.Draining() {
		t.Fatal("not draining")
	}
	if isDone(b.Idle()) {
		t.Fatal("idle with a call in progress")
	}

	_, err := carol.dial(t, "201", dialOpt{})
	var de *sipgo.ErrDialogResponse
	if !errors.As(err, &de) || de.Res.StatusCode != 503 {
		t.Fatalf("new call while draining: want 503, got %v", err)
	}
	if h := de.Res.GetHeader("Retry-After"); h == nil || h.Value() != "30" {
		t.Fatalf("503 without Retry-After: %s", de.Res.String())
	}
	alice.noIncoming(t, 200*time.Millisecond)
	if res := optionsProbe(t, carol.phone); res.StatusCode != 503 || res.GetHeader("Retry-After") == nil {
		t.Fatalf("OPTIONS while draining: %s", res.String())
	}

	requireRelayBoth(t, out, in, 30, 20, "caller to callee while draining: %d of 30 frames", "callee to caller while draining: %d of 30 frames")
	// In-dialog requests are served as before: hold gives music, resume
	// gives the caller's audio back (music still queued is not counted).
	out.reinvite(t, "sendonly")
	requireMusic(t, out, in, 40, 15, "held party got %d frames of the holder and %d of music while draining")
	out.reinvite(t, "sendrecv")
	frames := randomFrames(50)
	if match, _ := countExact(frames, stream(t, out, in, 0, 0, frames)); match < 35 {
		t.Fatalf("after resume the callee received %d of 50 frames", match)
	}
	if isDone(b.Idle()) {
		t.Fatal("idle with a call in progress")
	}
	hangupAndWait(t, in, out)
	select {
	case <-b.Idle():
	case <-time.After(20 * time.Second):
		t.Fatalf("not idle after the last call ended: %+v", b.Stats())
	}
	waitIdle(t, a)
}

// app.drain returns as soon as the last call ends, or when a second
// signal aborts it.
func TestAppDrain(t *testing.T) {
	a := testApp(t, t.TempDir())
	accs := seedTenant(t, a, "Acme", "201", "202")
	alice, bob := newSoftphone(t, a, accs[0], "udp"), newSoftphone(t, a, accs[1], "udp")
	out, in := connect(t, alice, bob, "202", "0 101")

	abort := make(chan struct{})
	close(abort)
	if a.drain(time.Hour, abort) {
		t.Fatal("an aborted drain reports every call ended")
	}
	done := make(chan bool, 1)
	go func() { done <- a.drain(time.Hour, nil) }()
	endCall(t, a, out, in)
	select {
	case ok := <-done:
		if !ok {
			t.Fatal("drain reports calls left")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("drain did not return after the last call ended")
	}
}

func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
