package media

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/pion/rtp"
)

// TestSendDTMFInterleaved sends an event while a playback feeds the
// session: the event's packets replace the audio on the same SSRC with
// continuous sequence numbers, and the audio resumes after it.
func TestSendDTMFInterleaved(t *testing.T) {
	e := newTestEngine(t)
	s := newTestSession(t, e)
	far := newPeer(t)
	s.SetRemote(far.addr())
	if err := s.SendDTMF('5', 0); !errors.Is(err, ErrNoDTMF) {
		t.Fatalf("without telephone-event: %v, want ErrNoDTMF", err)
	}
	if err := s.SetDTMFPayloadType(101); err != nil {
		t.Fatal(err)
	}
	if err := s.SendDTMF('x', 0); err == nil {
		t.Fatal("SendDTMF('x') succeeded")
	}
	pb, err := s.Play(Melody())
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Stop()
	far.mustRecv(waitLong)
	prev := far.mustRecv(waitLong)

	errc := make(chan error, 1)
	go func() { errc <- s.SendDTMF('#', 0) }() // the default: 100 ms

	// Collect until three audio packets have followed the end packets.
	pkts := []*rtp.Packet{prev}
	ends, after := 0, 0
	for after < 3 {
		p := far.mustRecv(waitLong)
		pkts = append(pkts, p)
		switch {
		case p.PayloadType == 101 && p.Payload[1]&0x80 != 0:
			ends++
		case p.PayloadType == 0 && ends > 0:
			after++
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}

	ssrc := pkts[0].SSRC
	var evTS uint32
	var durs []uint16
	first := -1
	for i, p := range pkts {
		if p.SSRC != ssrc {
			t.Fatalf("packet %d: SSRC %x, want %x", i, p.SSRC, ssrc)
		}
		if i > 0 && p.SequenceNumber != pkts[i-1].SequenceNumber+1 {
			t.Fatalf("packet %d: sequence %d after %d", i, p.SequenceNumber, pkts[i-1].SequenceNumber)
		}
		if p.PayloadType != 101 {
			continue
		}
		if first < 0 {
			first = i
			evTS = p.Timestamp
			if !p.Marker {
				t.Fatal("first event packet without marker")
			}
			if i == 0 || p.Timestamp-pkts[i-1].Timestamp < FrameSamples {
				t.Fatalf("event timestamp %d does not follow audio at %d", p.Timestamp, pkts[i-1].Timestamp)
			}
		} else if p.Marker {
			t.Fatalf("packet %d: marker on a continuation packet", i)
		}
		if i != first+len(durs) {
			t.Fatalf("packet %d: event packets not contiguous", i)
		}
		if p.Timestamp != evTS || len(p.Payload) != 4 || p.Payload[0] != 11 {
			t.Fatalf("packet %d: ts %d (event %d), payload %x", i, p.Timestamp, evTS, p.Payload)
		}
		durs = append(durs, binary.BigEndian.Uint16(p.Payload[2:]))
	}
	want := []uint16{160, 320, 480, 640, 800, 800, 800, 800}
	if len(durs) != len(want) {
		t.Fatalf("event durations %v, want %v", durs, want)
	}
	for i := range want {
		if durs[i] != want[i] {
			t.Fatalf("event durations %v, want %v", durs, want)
		}
		if end := pkts[first+i].Payload[1]&0x80 != 0; end != (i >= 5) {
			t.Fatalf("packet %d of the event: end bit %v", i, end)
		}
	}
	resume := pkts[first+len(durs)]
	if resume.PayloadType != 0 || !resume.Marker || int32(resume.Timestamp-(evTS+800)) < 0 {
		t.Fatalf("audio resumes with pt %d marker %v ts %d, event ended at %d", resume.PayloadType, resume.Marker, resume.Timestamp, evTS+800)
	}
}
