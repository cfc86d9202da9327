package media

import (
	"bytes"
	"testing"

	"github.com/pion/rtp"
)

// checkStream verifies that a receiver's packets form one consistent
// stream: one SSRC, sequence numbers +1 each, timestamps moving forward.
type streamCheck struct {
	t       *testing.T
	n       int
	ssrc    uint32
	seq     uint16
	ts      uint32
	markers int
}

func (c *streamCheck) add(p *rtp.Packet) {
	c.t.Helper()
	if c.n > 0 {
		if p.SSRC != c.ssrc {
			c.t.Fatalf("packet %d: SSRC %08x, stream had %08x", c.n, p.SSRC, c.ssrc)
		}
		if p.SequenceNumber != c.seq+1 {
			c.t.Fatalf("packet %d: seq %d after %d", c.n, p.SequenceNumber, c.seq)
		}
		if d := int32(p.Timestamp - c.ts); d < 0 || d > 8000*30 {
			c.t.Fatalf("packet %d: timestamp %d after %d (delta %d)", c.n, p.Timestamp, c.ts, d)
		}
	}
	if p.Marker {
		c.markers++
	}
	c.n++
	c.ssrc, c.seq, c.ts = p.SSRC, p.SequenceNumber, p.Timestamp
}

func TestRelayBitExact(t *testing.T) {
	p := newPair(t, PCMU, PCMU)
	dirs := []struct {
		name     string
		from, to *peer
		dst      *Session
	}{
		{"a->b", p.pa, p.pb, p.sa},
		{"b->a", p.pb, p.pa, p.sb},
	}
	for _, d := range dirs {
		t.Run(d.name, func(t *testing.T) {
			check := streamCheck{t: t}
			var firstIn, firstOut *rtp.Packet
			for i := 0; i < 50; i++ {
				payload := payloadOf(byte(i), FrameSamples)
				in := d.from.send(d.dst.LocalAddr(), 0, payload)
				out := d.to.mustRecv(waitLong)
				if !bytes.Equal(out.Payload, payload) {
					t.Fatalf("packet %d: payload differs", i)
				}
				if out.PayloadType != 0 || out.Version != 2 || len(out.CSRC) != 0 || out.Extension || out.Padding {
					t.Fatalf("packet %d: bad header %+v", i, out.Header)
				}
				if i == 0 {
					firstIn, firstOut = in, out
					if !out.Marker {
						t.Error("first packet of the stream has no marker bit")
					}
				}
				if got, want := out.Timestamp-firstOut.Timestamp, in.Timestamp-firstIn.Timestamp; got != want {
					t.Fatalf("packet %d: timestamp advanced %d, source %d", i, got, want)
				}
				if out.SSRC == in.SSRC {
					t.Fatalf("packet %d: source SSRC leaked through", i)
				}
				check.add(out)
			}
			if check.markers != 1 {
				t.Errorf("%d marker bits, want 1", check.markers)
			}
		})
	}
}

// TestRelayStripsHeaderExtras sends CSRCs, a header extension and padding:
// the receiver gets the bare payload under a plain 12-byte header.
func TestRelayStripsHeaderExtras(t *testing.T) {
	p := newPair(t, PCMA, PCMA)
	payload := payloadOf(9, FrameSamples)
	pkt := p.pa.packet(8, payload, true)
	pkt.CSRC = []uint32{1, 2}
	if err := pkt.SetExtension(1, []byte{0xaa, 0xbb}); err != nil {
		t.Fatal(err)
	}
	pkt.Padding = true
	pkt.PaddingSize = 4
	p.pa.sendPacket(p.sa.LocalAddr(), pkt)
	b, _, err := p.pb.recvRaw(waitLong)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 12+len(payload) || !bytes.Equal(b[12:], payload) {
		t.Fatalf("got %d bytes, want 12-byte header + %d payload", len(b), len(payload))
	}
}

func TestRelayIgnoresGarbage(t *testing.T) {
	p := newPair(t, PCMU, PCMU)
	for _, b := range [][]byte{
		{},
		{0x80},
		bytes.Repeat([]byte{0x40}, 20), // version 1
		append([]byte{0x80, 0xc8}, make([]byte, 26)...), // RTCP SR multiplexed
		append([]byte{0x8f, 0x00}, make([]byte, 20)...), // 15 CSRCs claimed, too short
	} {
		p.pa.sendRaw(p.sa.LocalAddr(), b)
	}
	p.pa.send(p.sa.LocalAddr(), 18, payloadOf(1, 20)) // G.729: not negotiated
	p.pb.expectNothing(200 * 1e6)
	if _, ok := p.sa.Latched(); ok {
		t.Fatal("latched on invalid packets")
	}
	if got := p.sa.Stats().Ignored; got != 6 {
		t.Errorf("ignored %d packets, want 6", got)
	}
	payload := payloadOf(2, FrameSamples)
	p.pa.send(p.sa.LocalAddr(), 0, payload)
	if out := p.pb.mustRecv(waitLong); !bytes.Equal(out.Payload, payload) {
		t.Fatal("payload differs")
	}
}
