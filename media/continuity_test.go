package media

import (
	"bytes"
	"testing"
	"time"
)

// TestContinuityAcrossRebridge follows what peer b hears through a whole
// hold cycle and a far-end change: relayed audio, unbridge, music, a
// prompt, rebridge, a new source SSRC with its sequence restarted, and a
// re-INVITE that moves the far end. Peer b must see one stream throughout.
func TestContinuityAcrossRebridge(t *testing.T) {
	p := newPair(t, PCMU, PCMU)
	check := streamCheck{t: t}
	relay := func(from *peer, n int) {
		t.Helper()
		for i := 0; i < n; i++ {
			payload := payloadOf(byte(i), FrameSamples)
			from.send(p.sa.LocalAddr(), 0, payload)
			out := p.pb.mustRecv(waitLong)
			if !bytes.Equal(out.Payload, payload) {
				t.Fatalf("relayed payload differs (packet %d)", i)
			}
			check.add(out)
		}
	}
	generated := func(n int) {
		t.Helper()
		for i := 0; i < n; i++ {
			check.add(p.pb.mustRecv(waitLong))
		}
	}

	relay(p.pa, 10)

	// Hold: unbridge, b hears music.
	if err := p.br.Close(); err != nil {
		t.Fatal(err)
	}
	p.pa.send(p.sa.LocalAddr(), 0, payloadOf(1, FrameSamples)) // goes nowhere
	class := p.e.Music("default", nil)
	if err := p.sb.StartMusic(class); err != nil {
		t.Fatal(err)
	}
	generated(15)

	// An announcement over the music, then music again.
	pb, err := p.sb.Play(&toneSource{frames: 5})
	if err != nil {
		t.Fatal(err)
	}
	generated(5)
	<-pb.Done()
	generated(5)

	// Unhold: stop the music and rebridge. The phone restarted its stream:
	// new SSRC, sequence and timestamp far behind the old ones.
	p.sb.StopMusic()
	time.Sleep(3 * FrameInterval) // a silent gap
	if _, err := NewBridge(p.sa, p.sb); err != nil {
		t.Fatal(err)
	}
	p.pa.ssrc, p.pa.seq, p.pa.ts = 0xabcdef01, 3, 160
	relay(p.pa, 10)

	// Same SSRC but the sequence jumps far back (a device that restarted).
	p.pa.seq -= 500
	relay(p.pa, 5)

	// Re-INVITE: the far end moved to a new address.
	moved := newPeer(t)
	moved.ssrc, moved.seq, moved.ts = 0x0101, 60000, 99999
	p.sa.Relatch()
	relay(moved, 10)

	// Rebridge to the same session: still one stream.
	if _, err := NewBridge(p.sa, p.sb); err != nil {
		t.Fatal(err)
	}
	relay(moved, 5)

	if check.n != 65 {
		t.Fatalf("checked %d packets", check.n)
	}
	// Marker bits: first packet, music, prompt, music, rebridge, restart,
	// new source, rebridge.
	if check.markers != 8 {
		t.Errorf("%d marker bits, want 8", check.markers)
	}
}

// toneSource produces frames of a fixed tone then io.EOF.
type toneSource struct {
	frames int
	n      int
}

func (s *toneSource) ReadFrame(f []int16) error {
	if s.n >= s.frames {
		return errEOF
	}
	copy(f, sine(len(f), 1000, 8000, s.n*len(f)))
	s.n++
	return nil
}
