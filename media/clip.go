package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"
)

// Clip is audio held in memory as the engine plays it: 8 kHz mono 16-bit
// samples. Any number of ClipSources can read it at once; a Clip is never
// modified after it is made.
type Clip struct {
	samples []int16
}

// NewClip makes a clip of 8 kHz mono samples (not copied: do not modify
// them afterwards).
func NewClip(samples []int16) *Clip { return &Clip{samples: samples} }

// LoadClip reads a WAV file of any supported format (see DecodeWAV).
func LoadClip(path string) (*Clip, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("media: load clip: %w", err)
	}
	defer f.Close()
	c, err := DecodeWAV(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Duration is the length of the clip.
func (c *Clip) Duration() time.Duration {
	return time.Duration(len(c.samples)) * time.Second / 8000
}

// Samples returns the clip's samples; do not modify them.
func (c *Clip) Samples() []int16 { return c.samples }

// Source returns a new reader of the clip from its start.
func (c *Clip) Source() *ClipSource { return &ClipSource{c: c} }

// WriteWAV writes the clip as a WAV file: PCM, 8 kHz, mono, 16 bit.
func (c *Clip) WriteWAV(w io.Writer) error {
	b := make([]byte, wavHeaderLen+2*len(c.samples))
	putWAVHeader(b, 1, len(c.samples))
	for i, s := range c.samples {
		binary.LittleEndian.PutUint16(b[wavHeaderLen+2*i:], uint16(s))
	}
	_, err := w.Write(b)
	return err
}

// wavHeaderLen is the size of the canonical 44-byte header written by
// WriteWAV and the Recorder.
const wavHeaderLen = 44

// putWAVHeader writes a canonical header of 8 kHz 16-bit PCM with frames
// sample frames of channels channels into b[:44].
func putWAVHeader(b []byte, channels, frames int) {
	data := uint32(frames * channels * 2)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], 36+data)
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], 1) // PCM
	binary.LittleEndian.PutUint16(b[22:], uint16(channels))
	binary.LittleEndian.PutUint32(b[24:], 8000)
	binary.LittleEndian.PutUint32(b[28:], uint32(8000*2*channels))
	binary.LittleEndian.PutUint16(b[32:], uint16(2*channels))
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], data)
}

// ClipSource plays a Clip. ReadFrame belongs to one goroutine (the
// playback); Seek and Position may be called from any.
type ClipSource struct {
	c   *Clip
	pos atomic.Int64 // next sample
}

// ReadFrame implements Source.
func (s *ClipSource) ReadFrame(frame []int16) error {
	pos := s.pos.Load()
	n := int64(len(s.c.samples))
	if pos >= n {
		return io.EOF
	}
	k := copy(frame, s.c.samples[pos:])
	clear(frame[k:])
	s.pos.CompareAndSwap(pos, pos+int64(k)) // a concurrent Seek wins
	return nil
}

// ErrSeek is returned by ClipSource.Seek for a position outside the clip.
var ErrSeek = errors.New("media: seek outside the clip")

// Seek moves to d from the start of the clip (0 to its Duration; at the
// end, the next ReadFrame returns io.EOF).
func (s *ClipSource) Seek(d time.Duration) error {
	if d < 0 || d > s.c.Duration() {
		return fmt.Errorf("%w: %v of %v", ErrSeek, d, s.c.Duration())
	}
	s.pos.Store(int64(d * 8000 / time.Second))
	return nil
}

// Position is how far into the clip the reader is.
func (s *ClipSource) Position() time.Duration {
	return time.Duration(s.pos.Load()) * time.Second / 8000
}
