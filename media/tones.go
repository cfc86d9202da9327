package media

import (
	"io"
	"math"
	"time"
)

// Tone names a call-progress tone of the Belgian network, which follows
// the ETSI harmonised tones (ETSI TR 101 041, ITU-T E.180 supplement 2).
type Tone int

// The tones NewTone generates. Ringback, busy and congestion repeat until
// the playback is stopped; beep and SIT end.
const (
	// ToneRingback: 425 Hz, 1 s on, 3 s off.
	ToneRingback Tone = iota + 1
	// ToneBusy: 425 Hz, 0.5 s on, 0.5 s off.
	ToneBusy
	// ToneCongestion: 425 Hz, 167 ms on, 167 ms off.
	ToneCongestion
	// ToneBeep: 1000 Hz for 250 ms (the start of a recording).
	ToneBeep
	// ToneSIT: the special information tone, 950, 1400 and 1800 Hz for
	// 330 ms each, played once (an announcement follows it).
	ToneSIT
)

func (t Tone) String() string {
	switch t {
	case ToneRingback:
		return "ringback"
	case ToneBusy:
		return "busy"
	case ToneCongestion:
		return "congestion"
	case ToneBeep:
		return "beep"
	case ToneSIT:
		return "sit"
	}
	return "Tone(?)"
}

const (
	// toneAmp is the peak of a generated tone: about -13 dBFS, a little
	// louder than the -20 dBm0 ETSI asks of the network, since a tone
	// played by the switch crosses no further loss.
	toneAmp = 7300
	// toneRamp softens each burst's edges (2 ms) so they do not click.
	toneRamp = 16
)

// toneSeg is one part of a cadence: a frequency (0: silence) for n samples.
type toneSeg struct {
	hz float64
	n  int
}

func ms(d int) int { return d * 8 } // samples in d milliseconds

var toneCadences = map[Tone][]toneSeg{
	ToneRingback:   {{425, ms(1000)}, {0, ms(3000)}},
	ToneBusy:       {{425, ms(500)}, {0, ms(500)}},
	ToneCongestion: {{425, ms(167)}, {0, ms(167)}},
	ToneBeep:       {{1000, ms(250)}},
	ToneSIT:        {{950, ms(330)}, {1400, ms(330)}, {1800, ms(330)}},
}

// NewTone returns a Source generating tone t. Ringback, busy and
// congestion never end; beep and SIT return io.EOF after one cadence. An
// unknown tone is silent and ends at once.
func NewTone(t Tone) Source {
	segs := toneCadences[t]
	return &cadence{segs: segs, loop: t == ToneRingback || t == ToneBusy || t == ToneCongestion}
}

// Silence returns a Source of d of silence (rounded up to whole frames),
// then io.EOF: a pause between prompts.
func Silence(d time.Duration) Source {
	if d <= 0 {
		return &cadence{}
	}
	n := int((d*8000 + time.Second - 1) / time.Second)
	return &cadence{segs: []toneSeg{{0, n}}}
}

type cadence struct {
	segs []toneSeg
	loop bool
	seg  int // current segment
	n    int // samples into it
}

func (t *cadence) ReadFrame(frame []int16) error {
	if t.seg >= len(t.segs) {
		return io.EOF
	}
	i := 0
	for i < len(frame) && t.seg < len(t.segs) {
		s := t.segs[t.seg]
		for ; i < len(frame) && t.n < s.n; i++ {
			frame[i] = toneSample(s, t.n)
			t.n++
		}
		if t.n == s.n {
			t.n = 0
			t.seg++
			if t.seg == len(t.segs) && t.loop {
				t.seg = 0
			}
		}
	}
	clear(frame[i:])
	return nil
}

// toneSample is sample n of segment s. Each burst starts at phase 0, so a
// cadence is the same every time; segments of different frequencies that
// follow each other (SIT) each get their ramp.
func toneSample(s toneSeg, n int) int16 {
	if s.hz == 0 {
		return 0
	}
	env := 1.0
	if n < toneRamp {
		env = float64(n) / toneRamp
	} else if r := s.n - n; r < toneRamp {
		env = float64(r) / toneRamp
	}
	return int16(toneAmp * env * math.Sin(2*math.Pi*s.hz*float64(n)/8000))
}
