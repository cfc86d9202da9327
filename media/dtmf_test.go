package media

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"sync"
	"testing"
	"time"
)

func dtmfPayload(event uint8, end bool, duration uint16) []byte {
	b := []byte{event, 10, 0, 0}
	if end {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], duration)
	return b
}

// sendEvent sends one RFC 4733 event as a phone does: three updates, the
// first with the marker bit, then the end packet three times, all with the
// event's timestamp.
func sendEvent(p *peer, to sessionAddr, pt, event uint8, withEnd bool) [][]byte {
	var sent [][]byte
	for i := 0; i < 3; i++ {
		b := dtmfPayload(event, false, uint16(160*(i+1)))
		p.sendPacket(to.LocalAddr(), p.packet(pt, b, i == 0))
		sent = append(sent, b)
	}
	if withEnd {
		for i := 0; i < 3; i++ {
			b := dtmfPayload(event, true, 640)
			p.sendPacket(to.LocalAddr(), p.packet(pt, b, false))
			sent = append(sent, b)
		}
	}
	p.ts += 800
	return sent
}

type sessionAddr interface{ LocalAddr() netip.AddrPort }

type digits struct {
	mu sync.Mutex
	s  []rune
	ch chan rune
}

func newDigits(s *Session) *digits {
	d := &digits{ch: make(chan rune, 16)}
	s.OnDTMF(func(r rune) {
		d.mu.Lock()
		d.s = append(d.s, r)
		d.mu.Unlock()
		d.ch <- r
	})
	return d
}

func (d *digits) get() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return string(d.s)
}

func TestDTMFPassThroughAndObserver(t *testing.T) {
	p := newPair(t, PCMU, PCMA)
	p.sa.SetDTMFPayloadType(101)
	p.sb.SetDTMFPayloadType(96)
	got := newDigits(p.sa)

	p.pa.send(p.sa.LocalAddr(), 0, payloadOf(1, FrameSamples))
	p.pb.mustRecv(waitLong)

	sent := sendEvent(p.pa, p.sa, 101, 5, true)
	for i, want := range sent {
		out := p.pb.mustRecv(waitLong)
		if out.PayloadType != 96 {
			t.Fatalf("event packet %d: payload type %d, want 96", i, out.PayloadType)
		}
		if !bytes.Equal(out.Payload, want) {
			t.Fatalf("event packet %d: payload %x, want %x", i, out.Payload, want)
		}
	}
	select {
	case r := <-got.ch:
		if r != '5' {
			t.Fatalf("digit %q, want '5'", r)
		}
	case <-time.After(waitLong):
		t.Fatal("no digit reported")
	}

	// More digits, including one whose end packets are all lost: it is
	// reported when the next event starts.
	sendEvent(p.pa, p.sa, 101, 10, true) // *
	sendEvent(p.pa, p.sa, 101, 1, false) // 1, end lost
	sendEvent(p.pa, p.sa, 101, 11, true) // #
	p.pb.drain(200 * time.Millisecond)
	waitFor(t, "digits", func() bool { return len(got.get()) >= 4 })
	time.Sleep(50 * time.Millisecond)
	if g := got.get(); g != "5*1#" {
		t.Fatalf("digits %q, want \"5*1#\"", g)
	}
}

func TestDTMFDroppedWithoutTelephoneEvent(t *testing.T) {
	p := newPair(t, PCMU, PCMU)
	p.sa.SetDTMFPayloadType(101)
	got := newDigits(p.sa)
	sendEvent(p.pa, p.sa, 101, 7, true)
	select {
	case <-got.ch:
	case <-time.After(waitLong):
		t.Fatal("no digit reported")
	}
	p.pb.expectNothing(200 * time.Millisecond)

	// Audio still flows.
	payload := payloadOf(3, FrameSamples)
	p.pa.send(p.sa.LocalAddr(), 0, payload)
	if out := p.pb.mustRecv(waitLong); !bytes.Equal(out.Payload, payload) {
		t.Fatal("payload differs")
	}
}
