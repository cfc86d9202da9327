package media

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/zaf/g711"
)

// Errors of DecodeWAV, wrapped with details. ErrNotWAV: the input is not a
// RIFF/WAVE file; ErrUnsupportedWAV: it is, in a format the engine cannot
// read. Both mean the file, not the system, is at fault.
var (
	ErrNotWAV         = errors.New("media: not a WAV file")
	ErrUnsupportedWAV = errors.New("media: unsupported WAV format")
)

// MaxWAVSize bounds what DecodeWAV reads: about 10 minutes of 48 kHz
// stereo 24-bit audio.
const MaxWAVSize = 200 << 20

// Rates DecodeWAV accepts.
const (
	minWAVRate = 8000
	maxWAVRate = 192000
)

// WAV format tags.
const (
	wavPCM        = 1
	wavFloat      = 3
	wavALaw       = 6
	wavMuLaw      = 7
	wavExtensible = 0xfffe
)

// DecodeWAV reads a whole WAV file and converts it to 8 kHz mono: PCM of 8,
// 16, 24 or 32 bits, 32- or 64-bit float, A-law or µ-law, plain or
// WAVE_FORMAT_EXTENSIBLE, any number of channels (mixed down by averaging)
// and any rate from 8 to 192 kHz (resampled with a windowed-sinc low-pass
// filter that cuts above 3.7 kHz). A data chunk whose size is 0, all ones
// or beyond the end of the input (a file still being written, such as a
// Recorder's before its first header update) is read to the end.
func DecodeWAV(r io.Reader) (*Clip, error) {
	wr, err := newWAVReader(io.LimitReader(r, MaxWAVSize+1))
	if err != nil {
		return nil, err
	}
	rs := newResampler(wr.read, wr.rate)
	var out []int16
	if wr.size > 0 && wr.size < MaxWAVSize {
		out = make([]int16, 0, int(float64(wr.size/int64(wr.align))/rs.ratio)+1)
	}
	buf := make([]int16, 4096)
	for {
		n, err := rs.read(buf)
		out = append(out, buf[:n]...)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("media: read wav: %w", err)
		}
	}
	if wr.counted.n > MaxWAVSize {
		return nil, fmt.Errorf("%w: larger than %d MB", ErrUnsupportedWAV, MaxWAVSize>>20)
	}
	return NewClip(out), nil
}

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// wavReader reads the samples of a WAV file's data chunk as mono float64
// in the int16 range.
type wavReader struct {
	counted   *countReader
	br        *bufio.Reader
	data      io.Reader // the data chunk
	dataStart int64     // its offset in the input
	size      int64     // its declared size (may exceed the input)
	rate      int
	chans     int
	width     int // bytes per sample
	align     int // bytes per frame
	sample    func(p []byte) float64
	raw       []byte
}

// newWAVReader parses the header of a WAV file up to its data chunk.
func newWAVReader(r io.Reader) (*wavReader, error) {
	cr := &countReader{r: r}
	br := bufio.NewReaderSize(cr, 8192)
	var hdr [12]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil || string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: no RIFF/WAVE header", ErrNotWAV)
	}
	var fmtChunk []byte
	for {
		var ch [8]byte
		if _, err := io.ReadFull(br, ch[:]); err != nil {
			if fmtChunk == nil {
				return nil, fmt.Errorf("%w: no format chunk", ErrNotWAV)
			}
			return nil, fmt.Errorf("%w: no data chunk", ErrNotWAV)
		}
		id, size := string(ch[0:4]), int64(binary.LittleEndian.Uint32(ch[4:]))
		if id == "data" {
			if fmtChunk == nil {
				return nil, fmt.Errorf("%w: data before the format chunk", ErrNotWAV)
			}
			w, err := parseWAVFormat(fmtChunk)
			if err != nil {
				return nil, err
			}
			if size == 0 || size == 0xffffffff {
				size = math.MaxInt64 // a streaming writer's placeholder: read to the end
			}
			w.counted, w.br, w.size = cr, br, size
			w.dataStart = cr.n - int64(br.Buffered())
			w.data = io.LimitReader(br, size) // a short input simply ends early
			w.raw = make([]byte, 256*w.align)
			return w, nil
		}
		if id == "fmt " {
			if size < 16 || size > 1024 {
				return nil, fmt.Errorf("%w: format chunk of %d bytes", ErrNotWAV, size)
			}
			fmtChunk = make([]byte, size)
			if _, err := io.ReadFull(br, fmtChunk); err != nil {
				return nil, fmt.Errorf("%w: truncated format chunk", ErrNotWAV)
			}
			size = 0
		}
		if _, err := io.CopyN(io.Discard, br, size+size&1); err != nil { // chunks are word aligned
			return nil, fmt.Errorf("%w: no data chunk", ErrNotWAV)
		}
	}
}

func parseWAVFormat(f []byte) (*wavReader, error) {
	tag := binary.LittleEndian.Uint16(f[0:])
	chans := int(binary.LittleEndian.Uint16(f[2:]))
	rate := int(binary.LittleEndian.Uint32(f[4:]))
	align := int(binary.LittleEndian.Uint16(f[12:]))
	bits := int(binary.LittleEndian.Uint16(f[14:]))
	if tag == wavExtensible {
		if len(f) < 26 {
			return nil, fmt.Errorf("%w: extensible format chunk too short", ErrNotWAV)
		}
		tag = binary.LittleEndian.Uint16(f[24:]) // first two bytes of the sub-format GUID
	}
	if chans < 1 {
		return nil, fmt.Errorf("%w: %d channels", ErrUnsupportedWAV, chans)
	}
	if rate < minWAVRate || rate > maxWAVRate {
		return nil, fmt.Errorf("%w: sample rate %d Hz (want 8000 to 192000)", ErrUnsupportedWAV, rate)
	}
	var sample func(p []byte) float64 // one sample, scaled to the int16 range
	width := (bits + 7) / 8
	switch {
	case tag == wavPCM && width == 1:
		sample = func(p []byte) float64 { return float64(int(p[0])-128) * 256 }
	case tag == wavPCM && width == 2:
		sample = func(p []byte) float64 { return float64(int16(binary.LittleEndian.Uint16(p))) }
	case tag == wavPCM && width == 3:
		sample = func(p []byte) float64 {
			return float64(int32(uint32(p[0])<<8|uint32(p[1])<<16|uint32(p[2])<<24)) / 65536
		}
	case tag == wavPCM && width == 4:
		sample = func(p []byte) float64 { return float64(int32(binary.LittleEndian.Uint32(p))) / 65536 }
	case tag == wavFloat && width == 4:
		sample = func(p []byte) float64 {
			return float64(math.Float32frombits(binary.LittleEndian.Uint32(p))) * 32768
		}
	case tag == wavFloat && width == 8:
		sample = func(p []byte) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(p)) * 32768 }
	case tag == wavALaw && width == 1:
		sample = func(p []byte) float64 { return float64(g711.DecodeAlawFrame(p[0])) }
	case tag == wavMuLaw && width == 1:
		sample = func(p []byte) float64 { return float64(g711.DecodeUlawFrame(p[0])) }
	default:
		return nil, fmt.Errorf("%w: format %d with %d-bit samples (want PCM of 8 to 32 bits, float, A-law or µ-law)", ErrUnsupportedWAV, tag, bits)
	}
	if align < width*chans {
		align = width * chans // some writers leave it 0
	}
	return &wavReader{rate: rate, chans: chans, width: width, align: align, sample: sample}, nil
}

// read fills dst with mono samples (channels averaged). It returns io.EOF
// with the last samples or after them; a partial last frame is dropped.
func (w *wavReader) read(dst []float64) (int, error) {
	frames := min(len(dst), len(w.raw)/w.align)
	n, err := io.ReadFull(w.data, w.raw[:frames*w.align])
	n /= w.align
	for i := 0; i < n; i++ {
		f := w.raw[i*w.align:]
		var sum float64
		for c := 0; c < w.chans; c++ {
			sum += w.sample(f[c*w.width:])
		}
		dst[i] = sum / float64(w.chans)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = io.EOF
	}
	return n, err
}
