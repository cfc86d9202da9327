package media

import (
	"math"
	"sync"
)

// The low-pass filter of resampleTo8k: a Kaiser-windowed sinc cutting at
// resampleCutoff, sampled every 1/resampleRes of an output sample period
// over ±resampleHalf periods. With β = 7 it rejects about 70 dB above
// roughly 4 kHz and passes the telephone band (to about 3.4 kHz) flat.
const (
	resampleCutoff = 3700.0 // Hz
	resampleHalf   = 32     // output periods on each side
	resampleRes    = 128    // table entries per output period
	resampleBeta   = 7.0
)

var (
	kernelOnce sync.Once
	kernel     []float64 // kernel[i] = h(i / resampleRes), i >= 0
)

func initKernel() {
	n := resampleHalf * resampleRes
	kernel = make([]float64, n+2)
	fc := 2 * resampleCutoff / 8000 // cutoff as a fraction of the output rate's Nyquist
	i0b := besselI0(resampleBeta)
	for i := 0; i <= n; i++ {
		u := float64(i) / resampleRes
		x := math.Pi * fc * u
		s := fc
		if x != 0 {
			s = fc * math.Sin(x) / x
		}
		r := u / resampleHalf
		kernel[i] = s * besselI0(resampleBeta*math.Sqrt(1-r*r)) / i0b
	}
}

// besselI0 is the modified Bessel function of the first kind, order 0
// (power series; converges fast for the arguments of a Kaiser window).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / 2) / float64(k)
		sum += term * term
		if term*term < sum*1e-17 {
			break
		}
	}
	return sum
}

// kernelAt interpolates the kernel at u output periods from its centre.
func kernelAt(u float64) float64 {
	u = math.Abs(u) * resampleRes
	i := int(u)
	if i >= resampleHalf*resampleRes {
		return 0
	}
	f := u - float64(i)
	return kernel[i]*(1-f) + kernel[i+1]*f
}

// resampleTo8k converts samples at rate (>= 8000) to 8 kHz int16. Each
// output sample is the kernel-weighted sum of the inputs around its time,
// divided by the sum of the weights, so the gain is exact everywhere,
// including the clip's edges.
func resampleTo8k(x []float64, rate int) []int16 {
	if rate == 8000 {
		out := make([]int16, len(x))
		for i, v := range x {
			out[i] = clamp16(v)
		}
		return out
	}
	kernelOnce.Do(initKernel)
	ratio := float64(rate) / 8000 // input samples per output sample
	n := int(math.Round(float64(len(x)) / ratio))
	out := make([]int16, n)
	reach := resampleHalf * ratio
	for j := range out {
		c := float64(j) * ratio
		lo := max(int(math.Ceil(c-reach)), 0)
		hi := min(int(math.Floor(c+reach)), len(x)-1)
		var acc, wsum float64
		for k := lo; k <= hi; k++ {
			w := kernelAt((float64(k) - c) / ratio)
			acc += w * x[k]
			wsum += w
		}
		if wsum != 0 {
			acc /= wsum
		}
		out[j] = clamp16(acc)
	}
	return out
}

func clamp16(v float64) int16 {
	v = math.Round(v)
	switch {
	case v > math.MaxInt16:
		return math.MaxInt16
	case v < math.MinInt16:
		return math.MinInt16
	}
	return int16(v)
}
