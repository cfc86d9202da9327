package media

import (
	"math"
	"testing"

	"github.com/zaf/g711"
)

func sine(n int, hz, amp float64, phase0 int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(amp * math.Sin(2*math.Pi*hz*float64(phase0+i)/8000))
	}
	return s
}

func within(a, b int16, ref int16) bool {
	d := math.Abs(float64(a) - float64(b))
	return d <= 16+math.Abs(float64(ref))/16
}

func TestTranscodeRelay(t *testing.T) {
	cases := []struct {
		name     string
		from, to Codec
		enc      func(int16) uint8
		decIn    func(uint8) int16
		decOut   func(uint8) int16
	}{
		{"PCMU->PCMA", PCMU, PCMA, g711.EncodeUlawFrame, g711.DecodeUlawFrame, g711.DecodeAlawFrame},
		{"PCMA->PCMU", PCMA, PCMU, g711.EncodeAlawFrame, g711.DecodeAlawFrame, g711.DecodeUlawFrame},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := newPair(t, c.from, c.to)
			for f := 0; f < 20; f++ {
				pcm := sine(FrameSamples, 440+float64(f)*50, 3000+float64(f)*1400, f*FrameSamples)
				payload := make([]byte, len(pcm))
				for i, s := range pcm {
					payload[i] = c.enc(s)
				}
				p.pa.send(p.sa.LocalAddr(), c.from.PayloadType, payload)
				out := p.pb.mustRecv(waitLong)
				if out.PayloadType != c.to.PayloadType {
					t.Fatalf("payload type %d, want %d", out.PayloadType, c.to.PayloadType)
				}
				if len(out.Payload) != len(payload) {
					t.Fatalf("payload %d bytes, want %d", len(out.Payload), len(payload))
				}
				for i := range payload {
					sent, got := c.decIn(payload[i]), c.decOut(out.Payload[i])
					if !within(sent, got, sent) {
						t.Fatalf("frame %d sample %d: sent %d, received %d", f, i, sent, got)
					}
					if !within(pcm[i], got, pcm[i]) {
						t.Fatalf("frame %d sample %d: original %d, received %d", f, i, pcm[i], got)
					}
				}
			}
		})
	}
}

// TestTranscodeTables checks every G.711 code word through the transcoder.
func TestTranscodeTables(t *testing.T) {
	var b [256]byte
	for i := range b {
		b[i] = byte(i)
	}
	u := b
	transcode(u[:], kindPCMU, kindPCMA)
	a := b
	transcode(a[:], kindPCMA, kindPCMU)
	for i := range b {
		if x, y := g711.DecodeUlawFrame(b[i]), g711.DecodeAlawFrame(u[i]); !within(x, y, x) {
			t.Errorf("ulaw %d: %d -> %d", i, x, y)
		}
		if x, y := g711.DecodeAlawFrame(b[i]), g711.DecodeUlawFrame(a[i]); !within(x, y, x) {
			t.Errorf("alaw %d: %d -> %d", i, x, y)
		}
	}
}
