package media

import (
	"bytes"
	"testing"
	"time"
)

func TestSymmetricLatching(t *testing.T) {
	p := newPair(t, PCMU, PCMU)
	sdpAddr := newPeer(t) // where the SDP said the far end is
	p.sa.SetRemote(sdpAddr.addr())
	intruder := newPeer(t)
	intruder.ssrc = 0xbad

	// Before anything is received, a sends to the SDP address.
	p.pb.send(p.sb.LocalAddr(), 0, payloadOf(1, FrameSamples))
	sdpAddr.mustRecv(waitLong)

	// A packet with an unexpected payload type does not latch.
	intruder.send(p.sa.LocalAddr(), 96, payloadOf(2, FrameSamples))
	p.pb.expectNothing(100 * time.Millisecond)
	if _, ok := p.sa.Latched(); ok {
		t.Fatal("latched on a packet with an unexpected payload type")
	}

	// The first valid packet latches its source (behind a NAT, not the SDP address).
	good := payloadOf(3, FrameSamples)
	p.pa.send(p.sa.LocalAddr(), 0, good)
	if out := p.pb.mustRecv(waitLong); !bytes.Equal(out.Payload, good) {
		t.Fatal("payload differs")
	}
	if l, ok := p.sa.Latched(); !ok || l != p.pa.addr() {
		t.Fatalf("latched %v %v, want %v", l, ok, p.pa.addr())
	}

	// Valid packets from another source are ignored: no injection.
	for i := 0; i < 5; i++ {
		intruder.send(p.sa.LocalAddr(), 0, payloadOf(4, FrameSamples))
	}
	p.pb.expectNothing(200 * time.Millisecond)
	if got := p.sa.Stats().Ignored; got != 6 {
		t.Errorf("ignored %d, want 6", got)
	}

	// Outgoing packets now follow the latched source, not the SDP address.
	back := payloadOf(5, FrameSamples)
	p.pb.send(p.sb.LocalAddr(), 0, back)
	if out := p.pa.mustRecv(waitLong); !bytes.Equal(out.Payload, back) {
		t.Fatal("payload differs")
	}
	sdpAddr.expectNothing(100 * time.Millisecond)
	intruder.expectNothing(10 * time.Millisecond)

	// The far end moves (re-INVITE): after Relatch the next valid source wins.
	p.sa.Relatch()
	moved := payloadOf(6, FrameSamples)
	intruder.send(p.sa.LocalAddr(), 0, moved)
	if out := p.pb.mustRecv(waitLong); !bytes.Equal(out.Payload, moved) {
		t.Fatal("payload differs after relatch")
	}
	if l, _ := p.sa.Latched(); l != intruder.addr() {
		t.Fatalf("relatched to %v, want %v", l, intruder.addr())
	}
	p.pa.send(p.sa.LocalAddr(), 0, payloadOf(7, FrameSamples))
	p.pb.expectNothing(100 * time.Millisecond)
}
