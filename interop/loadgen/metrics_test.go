package loadgen

import (
	"math"
	"testing"
	"time"
)

func TestSeqCounter(t *testing.T) {
	seqs := func(from, n int) []uint16 {
		out := make([]uint16, n)
		for i := range out {
			out[i] = uint16(from + i)
		}
		return out
	}
	for _, tc := range []struct {
		name               string
		seqs               []uint16
		expected, received int64
		lost               int64
	}{
		{"none", nil, 0, 0, 0},
		{"one", []uint16{7}, 1, 1, 0},
		{"in order", seqs(100, 50), 50, 50, 0},
		{"one gap", []uint16{1, 2, 4, 5}, 5, 4, 1},
		{"burst gap", []uint16{10, 11, 20}, 11, 3, 8},
		{"reordered", []uint16{1, 3, 2, 4}, 4, 4, 0},
		{"late after gap", []uint16{1, 2, 5, 3}, 5, 4, 1},
		{"duplicate", []uint16{1, 2, 2, 3}, 3, 4, -1},
		{"wrap-around", []uint16{65534, 65535, 0, 1}, 4, 4, 0},
		{"wrap-around with loss", []uint16{65533, 65535, 1}, 5, 3, 2},
		{"two wraps", append(seqs(0, 65536), seqs(0, 65536)...), 131072, 131072, 0},
		{"old packet ignored for max", []uint16{1000, 1001, 10}, 2, 3, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c SeqCounter
			for _, s := range tc.seqs {
				c.Add(s)
			}
			if c.Expected() != tc.expected || c.Received() != tc.received || c.Lost() != tc.lost {
				t.Fatalf("expected/received/lost = %d/%d/%d, want %d/%d/%d",
					c.Expected(), c.Received(), c.Lost(), tc.expected, tc.received, tc.lost)
			}
		})
	}
}

func TestLossRatio(t *testing.T) {
	for _, tc := range []struct {
		expected, lost int64
		want           float64
	}{
		{0, 0, 0}, {100, 0, 0}, {100, 1, 0.01}, {1000, 1, 0.001}, {50, 50, 1}, {10, -2, 0},
	} {
		if got := LossRatio(tc.expected, tc.lost); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("LossRatio(%d, %d) = %g, want %g", tc.expected, tc.lost, got, tc.want)
		}
	}
}

func TestJitterMeter(t *testing.T) {
	// arrivals in ms and RTP timestamps advancing 160 (20 ms) a packet.
	run := func(arrivalsMS []float64) *JitterMeter {
		var j JitterMeter
		ts := uint32(4294967000) // wraps during the run
		for _, a := range arrivalsMS {
			j.Add(ArrivalUnits(time.Duration(a*float64(time.Millisecond))), ts)
			ts += FrameSamples
		}
		return &j
	}
	steady := make([]float64, 200)
	alternating := make([]float64, 2000)
	for i := range steady {
		steady[i] = 5 + float64(i)*20
	}
	for i := range alternating {
		// every other packet 4 ms late: |D| is 4 ms (32 units) each time.
		alternating[i] = float64(i) * 20
		if i%2 == 1 {
			alternating[i] += 4
		}
	}
	for _, tc := range []struct {
		name     string
		arrivals []float64
		want     float64 // timestamp units
		tol      float64
	}{
		{"single packet", []float64{0}, 0, 0},
		{"steady 20 ms", steady, 0, 0},
		{"first step", []float64{0, 30}, 80.0 / 16, 1e-9}, // D = 10 ms = 80 units, J = 80/16
		{"alternating 4 ms", alternating, 32, 0.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := run(tc.arrivals)
			if math.Abs(j.Units()-tc.want) > tc.tol {
				t.Fatalf("jitter %g units, want %g (±%g)", j.Units(), tc.want, tc.tol)
			}
		})
	}
	var j JitterMeter
	j.jitter = 80
	if j.Duration() != 10*time.Millisecond {
		t.Fatalf("80 units = %s, want 10ms", j.Duration())
	}
}

func TestMOS(t *testing.T) {
	for _, tc := range []struct {
		name     string
		loss     float64
		jitter   time.Duration
		min, max float64
	}{
		{"perfect", 0, 0, 4.38, 4.40}, // R = 93.2 - 0.96
		{"perfect with 5 ms jitter", 0, 5 * time.Millisecond, 4.38, 4.40},
		{"0.1% loss", 0.001, 0, 4.37, 4.39},
		{"1% loss", 0.01, 0, 4.28, 4.32},
		{"5% loss", 0.05, 0, 3.85, 3.95},
		{"20% loss", 0.20, 0, 2.5, 2.9},
		{"everything lost", 1, 0, 1, 1.5},
		{"100 ms jitter", 0, 100 * time.Millisecond, 4.0, 4.25}, // d = 220 ms
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := MOS(tc.loss, tc.jitter)
			if got < tc.min || got > tc.max {
				t.Fatalf("MOS(%g, %s) = %.3f (R %.2f), want in [%g, %g]", tc.loss, tc.jitter, got,
					RFactor(tc.loss, EstimatedDelay(tc.jitter)), tc.min, tc.max)
			}
		})
	}
	for _, tc := range []struct{ r, want float64 }{{-5, 1}, {0, 1}, {100, 4.5}, {120, 4.5}, {50, 2.58}, {93.2, 4.41}} {
		if got := MOSFromR(tc.r); math.Abs(got-tc.want) > 0.01 {
			t.Errorf("MOSFromR(%g) = %.3f, want %.2f", tc.r, got, tc.want)
		}
	}
	// Loss and delay only ever lower the score.
	prev := 5.0
	for loss := 0.0; loss <= 1; loss += 0.05 {
		m := MOS(loss, 0)
		if m > prev {
			t.Fatalf("MOS rose from %.3f to %.3f at loss %.2f", prev, m, loss)
		}
		prev = m
	}
}
