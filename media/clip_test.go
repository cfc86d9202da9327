package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zaf/g711"
)

// wavBytes builds a WAV file: tag (1 PCM, 3 float, 7 µ-law, 0xfffe
// extensible PCM), bits per sample, rate, and one slice of samples in
// [-1, 1] per channel.
func wavBytes(tag, bits, rate int, chans ...[]float64) []byte {
	width := bits / 8
	nc := len(chans)
	var data bytes.Buffer
	for i := range chans[0] {
		for _, ch := range chans {
			v := ch[i]
			switch {
			case tag == 7:
				data.WriteByte(g711.EncodeUlawFrame(int16(v * 32767)))
			case tag == 3:
				binary.Write(&data, binary.LittleEndian, float32(v))
			case width == 1:
				data.WriteByte(byte(int(math.Round(v*127)) + 128))
			case width == 2:
				binary.Write(&data, binary.LittleEndian, int16(math.Round(v*32767)))
			case width == 3:
				s := int32(math.Round(v * 8388607))
				data.Write([]byte{byte(s), byte(s >> 8), byte(s >> 16)})
			case width == 4:
				binary.Write(&data, binary.LittleEndian, int32(math.Round(v*2147483647)))
			}
		}
	}
	var fmtc bytes.Buffer
	le := func(v any) { binary.Write(&fmtc, binary.LittleEndian, v) }
	ftag := tag
	le(uint16(ftag))
	le(uint16(nc))
	le(uint32(rate))
	le(uint32(rate * nc * width))
	le(uint16(nc * width))
	le(uint16(bits))
	if tag == 0xfffe {
		le(uint16(22))
		le(uint16(bits))
		le(uint32(0))
		fmtc.Write([]byte{1, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71}) // KSDATAFORMAT_SUBTYPE_PCM
	}
	var out bytes.Buffer
	w := func(v any) { binary.Write(&out, binary.LittleEndian, v) }
	out.WriteString("RIFF")
	w(uint32(4 + 8 + fmtc.Len() + 8 + 8 + 2 + 8 + data.Len()))
	out.WriteString("WAVE")
	out.WriteString("fmt ")
	w(uint32(fmtc.Len()))
	out.Write(fmtc.Bytes())
	out.WriteString("LIST") // a chunk to skip, of odd size (padded)
	w(uint32(1))
	out.Write([]byte{'x', 0})
	out.WriteString("data")
	w(uint32(data.Len()))
	out.Write(data.Bytes())
	return out.Bytes()
}

func sineF(n int, hz, amp float64, rate int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = amp * math.Sin(2*math.Pi*hz*float64(i)/float64(rate))
	}
	return x
}

// zeroCrossHz estimates the frequency of a sine at 8 kHz.
func zeroCrossHz(x []int16) float64 {
	n := 0
	for i := 1; i < len(x); i++ {
		if (x[i-1] < 0) != (x[i] < 0) {
			n++
		}
	}
	return float64(n) / 2 / (float64(len(x)) / 8000)
}

func decodeOK(t *testing.T, b []byte) *Clip {
	t.Helper()
	c, err := DecodeWAV(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDecodeWAVResamples(t *testing.T) {
	for _, c := range []struct {
		name       string
		tag, bits  int
		rate       int
		stereo     bool
		wantLevel  float64
		secondHalf bool
	}{
		{"8k 16-bit", 1, 16, 8000, false, 0.3, false},
		{"8k 8-bit", 1, 8, 8000, false, 0.3, false},
		{"8k mu-law", 7, 8, 8000, false, 0.3, false},
		{"16k 16-bit", 1, 16, 16000, false, 0.3, false},
		{"44.1k 24-bit stereo", 1, 24, 44100, true, 0.15, false},
		{"48k float", 3, 32, 48000, false, 0.3, false},
		{"22.05k 32-bit", 1, 32, 22050, false, 0.3, false},
		{"32k extensible", 0xfffe, 16, 32000, false, 0.3, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := c.rate * 3 / 2 // 1.5 s
			chans := [][]float64{sineF(n, 1000, 0.3, c.rate)}
			if c.stereo {
				chans = append(chans, make([]float64, n)) // silent right: the mix halves
			}
			clip := decodeOK(t, wavBytes(c.tag, c.bits, c.rate, chans...))
			if d := clip.Duration(); d < 1499*time.Millisecond || d > 1501*time.Millisecond {
				t.Fatalf("duration %v, want 1.5 s", d)
			}
			mid := clip.Samples()[2000:10000] // clear of the edges
			if hz := zeroCrossHz(mid); math.Abs(hz-1000) > 5 {
				t.Fatalf("frequency %.1f Hz, want 1000", hz)
			}
			want := c.wantLevel * 32767
			if l := level(mid, 1000, 8000); math.Abs(l-want) > 0.03*want {
				t.Fatalf("level %.0f, want %.0f", l, want)
			}
		})
	}
}

// TestDecodeWAVLowPass: tones the 8 kHz rate cannot carry are removed, not
// folded back into the band; a tone inside the band passes.
func TestDecodeWAVLowPass(t *testing.T) {
	for _, c := range []struct {
		rate    int
		hz      float64
		alias   float64 // where it would land without filtering
		passMin float64 // minimum level ratio (0: must be attenuated)
	}{
		{16000, 5000, 3000, 0},
		{44100, 4500, 3500, 0},
		{48000, 6000, 2000, 0},
		{16000, 3000, 3000, 0.97},
		{44100, 300, 300, 0.97},
	} {
		n := c.rate
		clip := decodeOK(t, wavBytes(1, 16, c.rate, sineF(n, c.hz, 0.5, c.rate)))
		mid := clip.Samples()[1000:7000]
		l := level(mid, c.alias, 8000) / (0.5 * 32767)
		if c.passMin == 0 {
			if l > 0.003 || peak(mid) > 200 { // -50 dB
				t.Fatalf("%d Hz tone at %d Hz: alias level %.4f, peak %d", int(c.hz), c.rate, l, peak(mid))
			}
		} else if l < c.passMin || l > 1.02 {
			t.Fatalf("%d Hz tone at %d Hz: level ratio %.3f", int(c.hz), c.rate, l)
		}
	}
}

func TestDecodeWAVErrors(t *testing.T) {
	good := wavBytes(1, 16, 8000, make([]float64, 100))
	adpcm := append([]byte(nil), good...)
	binary.LittleEndian.PutUint16(adpcm[20:], 2)
	slow := wavBytes(1, 16, 4000, make([]float64, 100))
	odd := wavBytes(1, 16, 8000, make([]float64, 100))
	binary.LittleEndian.PutUint16(odd[34:], 12) // 12-bit claim in 2-byte words: read as 16
	for _, c := range []struct {
		name string
		b    []byte
		want error
	}{
		{"text", []byte("hello, this is not audio at all"), ErrNotWAV},
		{"empty", nil, ErrNotWAV},
		{"header only", good[:12], ErrNotWAV},
		{"no data", good[:36+10], ErrNotWAV},
		{"adpcm", adpcm, ErrUnsupportedWAV},
		{"4 kHz", slow, ErrUnsupportedWAV},
	} {
		_, err := DecodeWAV(bytes.NewReader(c.b))
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if c := decodeOK(t, odd); len(c.Samples()) != 100 {
		t.Fatalf("12-bit: %d samples", len(c.Samples()))
	}
	// A data size left at its maximum by a streaming writer.
	stream := append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(stream[len(stream)-200-4:], 0xffffffff)
	if c := decodeOK(t, stream); len(c.Samples()) != 100 {
		t.Fatalf("streamed: %d samples", len(c.Samples()))
	}
	binary.LittleEndian.PutUint32(stream[len(stream)-200-4:], 0)
	if c := decodeOK(t, stream); len(c.Samples()) != 100 {
		t.Fatalf("data size 0: %d samples", len(c.Samples()))
	}
}

func TestClipSourcesAndWriteWAV(t *testing.T) {
	samples := sine(1000, 500, 8000, 0)
	clip := NewClip(samples)
	a, b := clip.Source(), clip.Source()
	f := make([]int16, FrameSamples)
	for i := 0; i < 3; i++ {
		if err := a.ReadFrame(f); err != nil {
			t.Fatal(err)
		}
	}
	if a.Position() != 60*time.Millisecond || b.Position() != 0 {
		t.Fatalf("positions %v, %v", a.Position(), b.Position())
	}
	if err := b.Seek(100 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	b.ReadFrame(f)
	if f[0] != samples[800] || f[FrameSamples-1] != samples[959] {
		t.Fatal("seek: wrong samples")
	}
	b.ReadFrame(f) // 40 samples left, then padding
	if f[39] != samples[999] || f[40] != 0 || f[FrameSamples-1] != 0 {
		t.Fatal("last frame not padded")
	}
	if err := b.ReadFrame(f); !errors.Is(err, io.EOF) {
		t.Fatalf("after the end: %v", err)
	}
	if err := b.Seek(time.Second); !errors.Is(err, ErrSeek) {
		t.Fatalf("seek past the end: %v", err)
	}

	path := filepath.Join(t.TempDir(), "clip.wav")
	var buf bytes.Buffer
	if err := clip.WriteWAV(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := LoadClip(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slicesEqual(back.Samples(), samples) {
		t.Fatal("WriteWAV/LoadClip round trip changed the samples")
	}
	// The engine's streaming reader accepts it too.
	w, err := OpenWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if w.Samples() != 1000 {
		t.Fatalf("OpenWAV sees %d samples", w.Samples())
	}
	if _, err := LoadClip(filepath.Join(t.TempDir(), "missing.wav")); err == nil {
		t.Fatal("LoadClip of a missing file succeeded")
	}
}

func slicesEqual(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
