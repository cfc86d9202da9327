package media

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-audio/wav"
)

// memFile is an in-memory io.WriteSeeker.
type memFile struct {
	b   []byte
	pos int64
}

func (m *memFile) Write(p []byte) (int, error) {
	if end := int(m.pos) + len(p); end > len(m.b) {
		m.b = append(m.b, make([]byte, end-len(m.b))...)
	}
	copy(m.b[m.pos:], p)
	m.pos += int64(len(p))
	return len(p), nil
}

func (m *memFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case 1:
		off += m.pos
	case 2:
		off += int64(len(m.b))
	}
	m.pos = off
	return off, nil
}

// stereoOf decodes a 16-bit stereo WAV into its two channels.
func stereoOf(t *testing.T, b []byte) (l, r []int16) {
	t.Helper()
	d := wav.NewDecoder(bytes.NewReader(b))
	buf, err := d.FullPCMBuffer()
	if err != nil {
		t.Fatal(err)
	}
	if d.NumChans != 2 || d.SampleRate != 8000 || d.BitDepth != 16 {
		t.Fatalf("format %d ch %d Hz %d bit", d.NumChans, d.SampleRate, d.BitDepth)
	}
	for i := 0; i+1 < len(buf.Data); i += 2 {
		l = append(l, int16(buf.Data[i]))
		r = append(r, int16(buf.Data[i+1]))
	}
	return l, r
}

// toneAt is sample i of a recording channel's test tone.
func toneAt(ch, i int) int16 {
	hz := []float64{440, 1000}[ch]
	return int16(6000 * math.Sin(2*math.Pi*hz*float64(i)/8000))
}

func frameOf(ch, k int) []int16 {
	f := make([]int16, FrameSamples)
	for i := range f {
		f[i] = toneAt(ch, k*FrameSamples+i)
	}
	return f
}

func ms20(k int) time.Duration { return time.Duration(k) * FrameInterval }

// TestRecorderStereoAlignment writes two channels as taps would, in time
// order, with jitter, losses and a hold, and checks the file sample by
// sample.
func TestRecorderStereoAlignment(t *testing.T) {
	var f memFile
	r, err := NewRecorder(&f, 2, RecorderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const frames = 150          // 3 s
	base := 7 * time.Second     // engine time of the first audio
	lost := map[int]bool{}      // channel 0 loses frames 40-43 (80 ms)
	for k := 40; k <= 43; k++ { // (the frame after arrives on time)
		lost[k] = true
	}
	jitter := func(ch, k int) time.Duration { // 0-45 ms late
		if k == 0 || k == 44 || k == 100 {
			return 0
		}
		return time.Duration((k*7+ch*3)%10) * 5 * time.Millisecond
	}
	r.Start(base)
	type ev struct {
		ch, k int
		at    time.Duration
	}
	var evs []ev
	for k := 0; k < frames; k++ {
		if !lost[k] {
			evs = append(evs, ev{0, k, base + ms20(k) + jitter(0, k)})
		}
		if k < 50 || k >= 100 { // channel 1 is on hold 1 s to 2 s
			evs = append(evs, ev{1, k, base + ms20(k) + jitter(1, k)})
		}
	}
	// Deliver in arrival order, as two taps would.
	for i := 1; i < len(evs); i++ {
		for j := i; j > 0 && evs[j].at < evs[j-1].at; j-- {
			evs[j], evs[j-1] = evs[j-1], evs[j]
		}
	}
	for _, e := range evs {
		r.Write(e.ch, e.at, frameOf(e.ch, e.k))
	}
	if d := r.Duration(); d != 3*time.Second {
		t.Fatalf("duration %v, want 3s", d)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	l, rr := stereoOf(t, f.b)
	if len(l) != frames*FrameSamples {
		t.Fatalf("%d frames in the file, want %d", len(l), frames*FrameSamples)
	}
	for i := range l {
		k := i / FrameSamples
		want0, want1 := toneAt(0, i), toneAt(1, i)
		if lost[k] {
			want0 = 0
		}
		if k >= 50 && k < 100 {
			want1 = 0
		}
		if l[i] != want0 || rr[i] != want1 {
			t.Fatalf("sample %d (frame %d): %d, %d; want %d, %d", i, k, l[i], rr[i], want0, want1)
		}
	}
}

// TestRecorderConcurrentHeader records two channels from two goroutines in
// lockstep into a real file and reads it back before and after Close.
func TestRecorderConcurrentHeader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.wav")
	file, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	r, err := NewRecorder(file, 2, RecorderOptions{HeaderEvery: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	const frames = 150
	var wg sync.WaitGroup
	steps := [2]chan int{make(chan int), make(chan int)}
	done := make(chan int, 2)
	for ch := 0; ch < 2; ch++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range steps[ch] {
				r.Write(ch, ms20(k), frameOf(ch, k))
				done <- ch
			}
		}()
	}
	for k := 0; k < frames; k++ {
		steps[0] <- k
		steps[1] <- k
		<-done
		<-done
	}
	close(steps[0])
	close(steps[1])
	wg.Wait()

	// Before Close: a valid file holding most of the audio.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	mid, err := DecodeWAV(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("file before Close: %v", err)
	}
	if d := mid.Duration(); d < 2*time.Second || d > 3*time.Second {
		t.Fatalf("file before Close holds %v, want 2 s to 3 s", d)
	}
	l, _ := stereoOf(t, b)
	if len(l) == 0 || l[1000] != toneAt(0, 1000) {
		t.Fatal("file before Close: wrong audio")
	}

	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r.Write(0, ms20(frames), frameOf(0, frames)) // ignored
	b, _ = os.ReadFile(path)
	l, rr := stereoOf(t, b)
	if len(l) != frames*FrameSamples {
		t.Fatalf("%d frames, want %d", len(l), frames*FrameSamples)
	}
	for i := range l {
		if l[i] != toneAt(0, i) || rr[i] != toneAt(1, i) {
			t.Fatalf("sample %d: %d, %d", i, l[i], rr[i])
		}
	}
}

// TestRecorderSilence drives silence detection with an injected clock.
func TestRecorderSilence(t *testing.T) {
	var now time.Duration
	var fired []time.Duration
	var f memFile
	r, err := NewRecorder(&f, 2, RecorderOptions{
		Clock:        func() time.Duration { return now },
		SilenceAfter: 2 * time.Second,
		OnSilence:    func() { fired = append(fired, now) },
	})
	if err != nil {
		t.Fatal(err)
	}
	quiet := make([]int16, FrameSamples)
	for i := range quiet {
		quiet[i] = int16(DefaultSilenceThreshold * ((i % 3) - 1)) // noise at the threshold
	}
	// Channel 0 talks for 1 s, channel 1 until 1.5 s; both are then quiet
	// (channel 1 sends nothing at all from 2 s on).
	for k := 0; k < 250; k++ {
		now = ms20(k)
		a, b := quiet, quiet
		if k < 50 {
			a = frameOf(0, k)
		}
		if k < 75 {
			b = frameOf(1, k)
		}
		r.Write(0, -1, a) // the time given is ignored: Clock rules
		if k < 100 {
			r.Write(1, -1, b)
		}
	}
	// The silence began at 1.5 s; it was 2 s long when the frame written
	// at 3.48 s ended at 3.5 s.
	if len(fired) != 1 || fired[0] != 3480*time.Millisecond {
		t.Fatalf("OnSilence at %v, want once at 3.48s", fired)
	}
	r.Close()

	// Nobody sends: Advance carries the time.
	fired = nil
	f = memFile{}
	r, _ = NewRecorder(&f, 1, RecorderOptions{
		SilenceAfter: time.Second,
		OnSilence:    func() { fired = append(fired, now) },
	})
	r.Write(0, 0, frameOf(0, 0))
	for now = 0; now <= 2*time.Second; now += 100 * time.Millisecond {
		r.Advance(now)
	}
	if len(fired) != 1 || fired[0] != 1100*time.Millisecond {
		t.Fatalf("OnSilence at %v, want once at 1.1s (1 s after the audio ended at 20 ms)", fired)
	}
	r.Close()
	c, err := DecodeWAV(bytes.NewReader(f.b))
	if err != nil || c.Duration() != 2*time.Second {
		t.Fatalf("advanced recording: %v, %v; want 2 s", c, err)
	}
	if !slicesEqual(c.Samples()[:FrameSamples], frameOf(0, 0)) || peak(c.Samples()[FrameSamples:]) != 0 {
		t.Fatal("mono recording: wrong audio")
	}
}

// TestRecorderTap records a session's two directions from its tap.
func TestRecorderTap(t *testing.T) {
	p := newPair(t, PCMU, PCMU)
	var f memFile
	r, err := NewRecorder(&f, 2, RecorderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rm0 := r.Tap(p.sb, 0, Inbound)
	rm1 := r.Tap(p.sb, 1, Outbound)
	pcm := sine(FrameSamples, 1000, 8000, 0)
	payload := encode(make([]byte, FrameSamples), pcm, kindPCMU)
	for i := 0; i < 5; i++ {
		p.pa.send(p.sa.LocalAddr(), 0, payload) // out of b
		p.pb.mustRecv(waitLong)
		p.pb.send(p.sb.LocalAddr(), 0, payload) // into b
		p.pa.mustRecv(waitLong)
	}
	rm0()
	rm1()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	l, rr := stereoOf(t, f.b)
	if len(l) < 5*FrameSamples || peak(l) < 7000 || peak(rr) < 7000 {
		t.Fatalf("%d frames, peaks %d, %d", len(l), peak(l), peak(rr))
	}
}
