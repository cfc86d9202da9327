package media

import (
	"testing"
	"time"
)

// TestAddTapSeveralTimed checks that every tap sees the audio of both
// directions with engine times in order, and that removing one leaves the
// others.
func TestAddTapSeveralTimed(t *testing.T) {
	p := newPair(t, PCMU, PCMU)
	type tapped struct {
		dir Direction
		at  time.Duration
		n   int
	}
	ch1 := make(chan tapped, 16)
	ch2 := make(chan tapped, 16)
	before := p.e.Now()
	rm1 := p.sb.AddTap(func(dir Direction, at time.Duration, s []int16) { ch1 <- tapped{dir, at, len(s)} })
	rm2 := p.sb.AddTap(func(dir Direction, at time.Duration, s []int16) { ch2 <- tapped{dir, at, len(s)} })
	defer rm2()

	payload := encode(make([]byte, FrameSamples), sine(FrameSamples, 440, 10000, 0), kindPCMU)
	p.pa.send(p.sa.LocalAddr(), 0, payload)
	p.pb.mustRecv(waitLong)
	p.pb.send(p.sb.LocalAddr(), 0, payload)
	p.pa.mustRecv(waitLong)
	after := p.e.Now()
	for i, ch := range []chan tapped{ch1, ch2} {
		out, in := <-ch, <-ch
		if out.dir != Outbound || in.dir != Inbound || out.n != FrameSamples || in.n != FrameSamples {
			t.Fatalf("tap %d: got %+v then %+v", i+1, out, in)
		}
		if out.at < before || in.at < out.at || in.at > after {
			t.Fatalf("tap %d: times %v, %v not within [%v, %v] in order", i+1, out.at, in.at, before, after)
		}
	}

	rm1()
	rm1() // idempotent
	p.pa.send(p.sa.LocalAddr(), 0, payload)
	p.pb.mustRecv(waitLong)
	if x := <-ch2; x.dir != Outbound {
		t.Fatalf("remaining tap got %+v", x)
	}
	select {
	case x := <-ch1:
		t.Fatalf("removed tap called: %+v", x)
	case <-time.After(50 * time.Millisecond):
	}
	rm2()
	if p.sb.taps.Load() != nil {
		t.Fatal("tap list not empty after removing every tap")
	}
}
