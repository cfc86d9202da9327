package media

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// track is one music file being played, resumable at a sample position.
type track interface {
	Source
	position() int64 // samples played
	Close() error
}

// openTrack opens a music file at sample position pos (8 kHz). Files in
// the engine's own format (8 kHz mono 16-bit) are read as they are; any
// other WAV file is decoded and resampled as it plays.
func openTrack(path string, pos int64) (track, error) {
	if w, err := OpenWAV(path); err == nil {
		if err := w.seek(min(2*pos, w.dataLen)); err != nil {
			w.Close()
			return nil, err
		}
		return wavTrack{w}, nil
	}
	return openWAVStream(path, pos)
}

type wavTrack struct{ *WAVSource }

func (w wavTrack) position() int64 { return w.pos / 2 }

// wavStream plays a WAV file of any format DecodeWAV reads, converting
// it frame by frame: a long file at 44.1 kHz costs a little CPU per frame
// and no memory, instead of a long decode before it can start.
type wavStream struct {
	path string
	f    *os.File
	rs   *resampler
}

func openWAVStream(path string, pos int64) (*wavStream, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("media: open wav: %w", err)
	}
	w, err := newWAVReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	rs := newResampler(w.read, w.rate)
	if pos > 0 {
		// Resume: start reading inputs as far back as the filter of
		// output pos reaches, so the output is what it would have been.
		in := max(int64(math.Ceil(float64(pos)*rs.ratio-resampleHalf*rs.ratio)), 0)
		if _, err := f.Seek(w.dataStart+in*int64(w.align), io.SeekStart); err != nil {
			f.Close()
			return nil, fmt.Errorf("media: wav %s: %w", path, err)
		}
		w.data = io.LimitReader(bufio.NewReaderSize(f, 8192), max(w.size-in*int64(w.align), 0))
		rs.off, rs.j = in, pos
	}
	return &wavStream{path: path, f: f, rs: rs}, nil
}

func (s *wavStream) ReadFrame(frame []int16) error {
	n, err := s.rs.read(frame)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("media: wav %s: %w", s.path, err)
	}
	if n == 0 {
		return io.EOF
	}
	clear(frame[n:])
	return nil
}

func (s *wavStream) position() int64 { return s.rs.j }

func (s *wavStream) Close() error { return s.f.Close() }
