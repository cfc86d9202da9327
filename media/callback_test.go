package media

import (
	"testing"
	"time"
)

// Callbacks may drive the session they belong to, including closing it,
// without deadlocking.
func TestCloseFromCallbacks(t *testing.T) {
	p := newPair(t, PCMU, PCMU)
	p.sa.SetDTMFPayloadType(101)
	closed := make(chan struct{})
	p.sa.OnDTMF(func(r rune) {
		if _, err := p.sa.Play(Melody()); err != nil {
			t.Error(err)
		}
		p.sa.Close()
		close(closed)
	})
	sendEvent(p.pa, p.sa, 101, 1, true)
	select {
	case <-closed:
	case <-time.After(waitLong):
		t.Fatal("OnDTMF handler blocked")
	}

	inactive := make(chan struct{})
	p.sb.OnInactive(50*time.Millisecond, func() {
		p.sb.Close()
		close(inactive)
	})
	select {
	case <-inactive:
	case <-time.After(waitLong):
		t.Fatal("OnInactive handler blocked")
	}
	waitFor(t, "sessions to close", func() bool { return p.e.Stats().Sessions == 0 })
}

func TestTap(t *testing.T) {
	p := newPair(t, PCMU, PCMA)
	type tapped struct {
		dir Direction
		n   int
		s0  int16
	}
	ch := make(chan tapped, 16)
	p.sb.SetTap(func(dir Direction, samples []int16) {
		ch <- tapped{dir, len(samples), samples[0]}
	})
	pcm := sine(FrameSamples, 440, 10000, 40)
	payload := encode(make([]byte, FrameSamples), pcm, kindPCMU)
	p.pa.send(p.sa.LocalAddr(), 0, payload)
	p.pb.mustRecv(waitLong)
	out := <-ch // what b sends: a's audio transcoded to PCMA
	if out.dir != Outbound || out.n != FrameSamples || !within(out.s0, pcm[0], pcm[0]) {
		t.Fatalf("outbound tap %+v, first sample %d", out, pcm[0])
	}
	p.pb.send(p.sb.LocalAddr(), 8, encode(make([]byte, FrameSamples), pcm, kindPCMA))
	p.pa.mustRecv(waitLong)
	in := <-ch
	if in.dir != Inbound || in.n != FrameSamples || !within(in.s0, pcm[0], pcm[0]) {
		t.Fatalf("inbound tap %+v", in)
	}
	p.sb.SetTap(nil)
	p.pa.send(p.sa.LocalAddr(), 0, payload)
	p.pb.mustRecv(waitLong)
	select {
	case x := <-ch:
		t.Fatalf("tap called after removal: %+v", x)
	case <-time.After(50 * time.Millisecond):
	}
}
