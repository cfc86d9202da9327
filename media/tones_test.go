package media

import (
	"errors"
	"io"
	"math"
	"testing"
	"time"
)

// readAll reads frames from src until io.EOF or max samples, and reports
// whether it ended.
func readAll(t *testing.T, src Source, max int) ([]int16, bool) {
	t.Helper()
	var out []int16
	f := make([]int16, FrameSamples)
	for len(out) < max {
		err := src.ReadFrame(f)
		if errors.Is(err, io.EOF) {
			return out, true
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f...)
	}
	return out, false
}

// level estimates the amplitude of the hz component of x (Goertzel).
func level(x []int16, hz float64, rate int) float64 {
	if len(x) == 0 {
		return 0
	}
	w := 2 * math.Pi * hz / float64(rate)
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s := float64(v) + c*s1 - s2
		s2, s1 = s1, s
	}
	p := s1*s1 + s2*s2 - c*s1*s2
	return 2 * math.Sqrt(math.Max(p, 0)) / float64(len(x))
}

func peak(x []int16) int {
	m := 0
	for _, v := range x {
		m = max(m, int(math.Abs(float64(v))))
	}
	return m
}

// checkCadence checks that x follows on/off bursts of hz (durations in
// samples), skipping the ramps at the edges.
func checkCadence(t *testing.T, name string, x []int16, hz float64, cadence []int) {
	t.Helper()
	pos := 0
	for i := 0; pos < len(x); i++ {
		n := cadence[i%len(cadence)]
		seg := x[pos:min(pos+n, len(x))]
		if len(seg) > 2*toneRamp+80 {
			in := seg[toneRamp : len(seg)-toneRamp]
			if i%2 == 0 {
				if l := level(in, hz, 8000); l < 0.8*toneAmp {
					t.Fatalf("%s: burst %d at %d: %v Hz level %.0f", name, i, pos, hz, l)
				}
			} else if p := peak(seg); p != 0 {
				t.Fatalf("%s: pause %d at %d: peak %d", name, i, pos, p)
			}
		}
		pos += n
	}
}

func TestTonesRepeating(t *testing.T) {
	for _, c := range []struct {
		tone    Tone
		cadence []int
	}{
		{ToneRingback, []int{8000, 24000}},
		{ToneBusy, []int{4000, 4000}},
		{ToneCongestion, []int{1336, 1336}},
	} {
		x, ended := readAll(t, NewTone(c.tone), 3*(c.cadence[0]+c.cadence[1]))
		if ended {
			t.Fatalf("%v ended", c.tone)
		}
		checkCadence(t, c.tone.String(), x, 425, c.cadence)
	}
}

func TestTonesEnding(t *testing.T) {
	x, ended := readAll(t, NewTone(ToneBeep), 100000)
	if !ended || len(x) != 13*FrameSamples {
		t.Fatalf("beep: %d samples, ended %v; want 13 frames", len(x), ended)
	}
	checkCadence(t, "beep", x[:2000], 1000, []int{2000})
	if peak(x[2000:]) != 0 {
		t.Fatal("beep: padding not silent")
	}

	x, ended = readAll(t, NewTone(ToneSIT), 100000)
	if !ended || len(x) != 50*FrameSamples { // 990 ms in 20 ms frames
		t.Fatalf("SIT: %d samples, ended %v", len(x), ended)
	}
	for i, hz := range []float64{950, 1400, 1800} {
		seg := x[i*2640+toneRamp : (i+1)*2640-toneRamp]
		if l := level(seg, hz, 8000); l < 0.8*toneAmp {
			t.Fatalf("SIT segment %d: %v Hz level %.0f", i, hz, l)
		}
	}

	x, ended = readAll(t, Silence(70*time.Millisecond), 100000)
	if !ended || len(x) != 4*FrameSamples || peak(x) != 0 {
		t.Fatalf("silence 70 ms: %d samples, ended %v, peak %d", len(x), ended, peak(x))
	}
	if x, ended := readAll(t, Silence(0), 1000); !ended || len(x) != 0 {
		t.Fatal("Silence(0) is not empty")
	}
}
