package media

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"sync"
	"time"
)

// DefaultSilenceThreshold is the level at or below which a sample counts as
// silence: 328, about -40 dBFS. Line and comfort noise of G.711 calls stays
// well below it; speech peaks far above.
const DefaultSilenceThreshold = 328

// RecorderOptions tunes a Recorder. The zero value records with no silence
// detection.
type RecorderOptions struct {
	// Clock, if set, times every Write (its at argument is then ignored):
	// for audio that comes without a time. Default: the times given.
	Clock func() time.Duration
	// SilenceThreshold is the largest absolute sample value that counts as
	// silence (default DefaultSilenceThreshold).
	SilenceThreshold int16
	// SilenceAfter: once every channel has been silent that long, OnSilence
	// is called, once. 0 disables detection. A channel that sends nothing
	// is silent.
	SilenceAfter time.Duration
	// OnSilence runs on the goroutine of the Write (or Advance) that
	// detected the silence, without the recorder's lock: it must not
	// block, but may call Close.
	OnSilence func()
	// HeaderEvery is how much audio may be written before the WAV header's
	// sizes are brought up to date (default 1 s), so that a recording cut
	// short by a crash is still a playable file.
	HeaderEvery time.Duration
}

const (
	// recTolerance: a packet arriving within this of where its channel's
	// audio is expected is placed there (jitter), not at its own time.
	recTolerance = 60 * 8 // samples
	// recMaxAhead: a channel that got this far ahead of the times of its
	// packets (a burst after a stall, a fast clock) is moved back to them,
	// its audio overwritten, so channels never drift apart by more.
	recMaxAhead = 200 * 8
	// recBuffer is how far behind the furthest channel audio is kept in
	// memory before being written: more than recMaxAhead plus
	// recTolerance and a packet, so that a slower channel's audio still
	// finds its place.
	recBuffer = 400 * 8
	// recChunk batches file writes.
	recChunk = 100 * 8
)

// Recorder writes a WAV file (8 kHz, 16-bit PCM, mono or stereo) from
// timestamped audio, such as session taps deliver: each channel's audio is
// placed at its time relative to the recording's start, gaps (loss, hold,
// a party that sends nothing) become silence, and the channels stay
// aligned. It is safe for concurrent use.
type Recorder struct {
	mu       sync.Mutex
	w        io.WriteSeeker
	start    int64 // offset of the header in w
	nch      int
	opts     RecorderOptions
	headerN  int64 // frames between header updates
	silenceN int64 // samples of silence that trigger OnSilence

	started  bool
	t0       time.Duration
	chans    []recChan
	base     int64 // frames written to w; buffers start here
	head     int64 // end of the furthest channel
	headerAt int64 // frames written when the header was last updated
	lastLoud int64 // end of the last loud sample of any channel
	fired    bool
	closed   bool
	err      error
	out      []byte // interleaving scratch
}

type recChan struct {
	seen bool
	next int64   // where the channel's next audio is expected
	buf  []int16 // samples from base on
}

// NewRecorder starts a WAV file of channels channels (1 or 2) at w's
// current position. Close completes it; Close does not close w.
func NewRecorder(w io.WriteSeeker, channels int, opts RecorderOptions) (*Recorder, error) {
	if channels != 1 && channels != 2 {
		return nil, fmt.Errorf("media: recorder: %d channels (want 1 or 2)", channels)
	}
	if opts.SilenceThreshold <= 0 {
		opts.SilenceThreshold = DefaultSilenceThreshold
	}
	if opts.HeaderEvery <= 0 {
		opts.HeaderEvery = time.Second
	}
	start, err := w.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, fmt.Errorf("media: recorder: %w", err)
	}
	r := &Recorder{
		w:        w,
		start:    start,
		nch:      channels,
		opts:     opts,
		headerN:  samplesIn(opts.HeaderEvery),
		silenceN: samplesIn(opts.SilenceAfter),
		chans:    make([]recChan, channels),
	}
	var h [wavHeaderLen]byte
	putWAVHeader(h[:], channels, 0)
	if _, err := w.Write(h[:]); err != nil {
		return nil, fmt.Errorf("media: recorder: %w", err)
	}
	return r, nil
}

// samplesIn converts a duration to 8 kHz samples, rounded to the nearest.
func samplesIn(d time.Duration) int64 {
	return int64(math.Round(float64(d) * 8000 / float64(time.Second)))
}

// Start sets the recording's time zero (by default, the time of the first
// audio written). It has no effect once audio was written.
func (r *Recorder) Start(at time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.started {
		r.started, r.t0 = true, at
	}
}

// Write records samples of channel ch (0 or 1) whose first sample was
// heard at engine time at. Samples are copied. Audio within 60 ms of where
// the channel's previous audio ended continues it seamlessly; audio later
// than that leaves a silent gap; audio from before what was already
// written to the file (more than 400 ms behind the other channel) is lost.
func (r *Recorder) Write(ch int, at time.Duration, samples []int16) {
	r.mu.Lock()
	if r.closed || ch < 0 || ch >= r.nch || len(samples) == 0 {
		r.mu.Unlock()
		return
	}
	if r.opts.Clock != nil {
		at = r.opts.Clock()
	}
	if !r.started {
		r.started, r.t0 = true, at
	}
	pos := samplesIn(at - r.t0)
	c := &r.chans[ch]
	if c.seen {
		if d := pos - c.next; d < recTolerance && d > -recMaxAhead {
			pos = c.next
		}
	}
	c.seen = true
	if pos < r.base { // its place is already in the file
		skip := r.base - pos
		if skip >= int64(len(samples)) {
			r.mu.Unlock()
			return
		}
		samples, pos = samples[skip:], r.base
	}
	end := pos + int64(len(samples))
	if need := int(end - r.base); len(c.buf) < need {
		old := len(c.buf)
		if cap(c.buf) < need {
			c.buf = append(c.buf[:cap(c.buf)], make([]int16, need-cap(c.buf))...)
		}
		c.buf = c.buf[:need]
		clear(c.buf[old:])
	}
	copy(c.buf[pos-r.base:], samples)
	c.next = end
	thr := r.opts.SilenceThreshold
	for i := len(samples) - 1; i >= 0; i-- {
		if s := samples[i]; s > thr || s < -thr {
			r.lastLoud = max(r.lastLoud, pos+int64(i)+1)
			break
		}
	}
	fire := r.advanceLocked(end)
	r.mu.Unlock()
	if fire {
		r.opts.OnSilence()
	}
}

// Advance tells the recorder that time at has come on every channel even
// if no audio did (both parties silent or on hold): the recording is
// extended with silence to at, and silence detection runs. Call it from a
// timer if a recording must grow, or detect silence, while nobody sends.
func (r *Recorder) Advance(at time.Duration) {
	r.mu.Lock()
	if r.closed || !r.started {
		r.mu.Unlock()
		return
	}
	fire := r.advanceLocked(samplesIn(at - r.t0))
	r.mu.Unlock()
	if fire {
		r.opts.OnSilence()
	}
}

// advanceLocked moves the head to end, writes what is old enough and
// reports whether OnSilence is due.
func (r *Recorder) advanceLocked(end int64) bool {
	r.head = max(r.head, end)
	if limit := r.head - recBuffer; limit-r.base >= recChunk {
		r.flushLocked(limit)
	}
	if r.silenceN > 0 && !r.fired && r.opts.OnSilence != nil && r.head-r.lastLoud >= r.silenceN {
		r.fired = true
		return true
	}
	return false
}

// flushLocked writes the frames before limit, interleaved, with silence
// where a channel has nothing.
func (r *Recorder) flushLocked(limit int64) {
	n := int(limit - r.base)
	if n <= 0 {
		return
	}
	size := n * r.nch * 2
	if cap(r.out) < size {
		r.out = make([]byte, size)
	}
	b := r.out[:size]
	for ci := range r.chans {
		c := &r.chans[ci]
		for i := 0; i < n; i++ {
			var v int16
			if i < len(c.buf) {
				v = c.buf[i]
			}
			binary.LittleEndian.PutUint16(b[(i*r.nch+ci)*2:], uint16(v))
		}
		if n < len(c.buf) {
			c.buf = c.buf[:copy(c.buf, c.buf[n:])]
		} else {
			c.buf = c.buf[:0]
		}
	}
	r.base = limit
	if r.err != nil {
		return
	}
	if _, err := r.w.Write(b); err != nil {
		r.err = err
		return
	}
	if r.base-r.headerAt >= r.headerN {
		r.headerLocked()
	}
}

// headerLocked rewrites the header's sizes for what was written and
// returns to the end.
func (r *Recorder) headerLocked() {
	var h [wavHeaderLen]byte
	putWAVHeader(h[:], r.nch, int(r.base))
	_, err := r.w.Seek(r.start+4, io.SeekStart)
	if err == nil {
		_, err = r.w.Write(h[4:8])
	}
	if err == nil {
		_, err = r.w.Seek(r.start+40, io.SeekStart)
	}
	if err == nil {
		_, err = r.w.Write(h[40:44])
	}
	if err == nil {
		_, err = r.w.Seek(r.start+wavHeaderLen+r.base*int64(r.nch)*2, io.SeekStart)
	}
	if err != nil {
		r.err = err
		return
	}
	r.headerAt = r.base
}

// Duration is the length of the recording so far (its furthest channel).
func (r *Recorder) Duration() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return time.Duration(r.head) * time.Second / 8000
}

// Close writes what is buffered, padding the shorter channel with silence,
// and completes the header. It returns the first write error of the
// recording. Later Writes are ignored; Close is idempotent.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return r.err
	}
	r.closed = true
	r.flushLocked(r.head)
	if r.err == nil {
		r.headerLocked()
	}
	if r.err != nil {
		return fmt.Errorf("media: recorder: %w", r.err)
	}
	return nil
}

// Tap records the audio of session s flowing in direction dir into channel
// ch, until remove is called (call it before Close).
func (r *Recorder) Tap(s *Session, ch int, dir Direction) (remove func()) {
	return s.AddTap(func(d Direction, at time.Duration, samples []int16) {
		if d == dir {
			r.Write(ch, at, samples)
		}
	})
}
