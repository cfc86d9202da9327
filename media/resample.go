package media

import (
	"errors"
	"io"
	"math"
	"sync"
)

// The low-pass filter of the resampler: a Kaiser-windowed sinc cutting at
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

// resampler converts a stream of samples at rate (>= 8000) to 8 kHz. Each
// output sample is the kernel-weighted sum of the inputs around its time,
// divided by the sum of the weights, so the gain is exact everywhere,
// including the stream's edges. It keeps only the inputs the next outputs
// need, so a long file streams through in constant memory.
type resampler struct {
	src   func([]float64) (int, error)
	ratio float64   // input samples per output sample
	in    []float64 // inputs from index off on
	off   int64
	j     int64 // next output
	total int64 // inputs in all, once the source ended (-1 before)
	err   error
}

func newResampler(src func([]float64) (int, error), rate int) *resampler {
	kernelOnce.Do(initKernel)
	return &resampler{src: src, ratio: float64(rate) / 8000, total: -1}
}

// read fills dst with output samples; io.EOF comes with or after the last.
func (r *resampler) read(dst []int16) (int, error) {
	n := 0
	reach := resampleHalf * r.ratio
	for n < len(dst) {
		c := float64(r.j) * r.ratio
		hi := int64(math.Floor(c + reach))
		for r.total < 0 && r.off+int64(len(r.in)) <= hi {
			if err := r.fill(); err != nil {
				return n, err
			}
		}
		if r.total >= 0 {
			if r.j >= int64(math.Round(float64(r.total)/r.ratio)) {
				return n, io.EOF
			}
			hi = min(hi, r.total-1)
		}
		lo := max(int64(math.Ceil(c-reach)), 0)
		if r.ratio == 1 {
			lo, hi = r.j, r.j // 8 kHz already: samples pass through
		}
		var acc, wsum float64
		for k := lo; k <= hi; k++ {
			w := 1.0
			if r.ratio != 1 {
				w = kernelAt((float64(k) - c) / r.ratio)
			}
			acc += w * r.in[k-r.off]
			wsum += w
		}
		if wsum != 0 {
			acc /= wsum
		}
		dst[n] = clamp16(acc)
		n++
		r.j++
	}
	return n, nil
}

// fill reads more input, first dropping what no future output needs.
func (r *resampler) fill() error {
	if need := int64(math.Ceil(float64(r.j)*r.ratio-resampleHalf*r.ratio)) - 1; need > r.off {
		drop := min(int(need-r.off), len(r.in))
		r.in = r.in[:copy(r.in, r.in[drop:])]
		r.off += int64(drop)
	}
	if cap(r.in)-len(r.in) < 1024 {
		grown := make([]float64, len(r.in), 2*cap(r.in)+4096)
		copy(grown, r.in)
		r.in = grown
	}
	k, err := r.src(r.in[len(r.in):cap(r.in)])
	r.in = r.in[:len(r.in)+k]
	if errors.Is(err, io.EOF) {
		r.total = r.off + int64(len(r.in))
		return nil
	}
	if err == nil && k == 0 {
		err = io.ErrNoProgress
	}
	return err
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
