package media

import (
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
// filter that cuts above 3.7 kHz). A data chunk whose size is missing or
// beyond the end of the input (a file still being written) is read to the
// end.
func DecodeWAV(r io.Reader) (*Clip, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxWAVSize+1))
	if err != nil {
		return nil, fmt.Errorf("media: read wav: %w", err)
	}
	if len(b) > MaxWAVSize {
		return nil, fmt.Errorf("%w: larger than %d MB", ErrUnsupportedWAV, MaxWAVSize>>20)
	}
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: no RIFF/WAVE header", ErrNotWAV)
	}
	var (
		fmtChunk []byte
		data     []byte
		haveData bool
	)
	for p := 12; p+8 <= len(b) && !haveData; {
		id := string(b[p : p+4])
		size := int(binary.LittleEndian.Uint32(b[p+4:]))
		body := b[p+8:]
		if size < 0 || size > len(body) {
			size = len(body) // truncated, or a streaming writer's placeholder
		}
		switch id {
		case "fmt ":
			fmtChunk = body[:size]
		case "data":
			data, haveData = body[:size], true
		}
		p += 8 + size + size&1 // chunks are word aligned
	}
	if fmtChunk == nil || len(fmtChunk) < 16 {
		return nil, fmt.Errorf("%w: no format chunk", ErrNotWAV)
	}
	if !haveData {
		return nil, fmt.Errorf("%w: no data chunk", ErrNotWAV)
	}
	tag := binary.LittleEndian.Uint16(fmtChunk[0:])
	chans := int(binary.LittleEndian.Uint16(fmtChunk[2:]))
	rate := int(binary.LittleEndian.Uint32(fmtChunk[4:]))
	align := int(binary.LittleEndian.Uint16(fmtChunk[12:]))
	bits := int(binary.LittleEndian.Uint16(fmtChunk[14:]))
	if tag == wavExtensible {
		if len(fmtChunk) < 26 {
			return nil, fmt.Errorf("%w: extensible format chunk too short", ErrNotWAV)
		}
		tag = binary.LittleEndian.Uint16(fmtChunk[24:]) // first two bytes of the sub-format GUID
	}
	if chans < 1 {
		return nil, fmt.Errorf("%w: %d channels", ErrUnsupportedWAV, chans)
	}
	if rate < minWAVRate || rate > maxWAVRate {
		return nil, fmt.Errorf("%w: sample rate %d Hz (want 8000 to 192000)", ErrUnsupportedWAV, rate)
	}
	var sample func(p []byte) float64 // one sample, scaled to int16 range
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
	frames := len(data) / align
	mono := make([]float64, frames)
	for i := range mono {
		f := data[i*align:]
		var sum float64
		for c := 0; c < chans; c++ {
			sum += sample(f[c*width:])
		}
		mono[i] = sum / float64(chans)
	}
	return NewClip(resampleTo8k(mono, rate)), nil
}
