package media

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

func constant(n int, v float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = v
	}
	return x
}

// writeFile writes b to dir/name.
func writeFile(t *testing.T, dir, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// frames reads n frames from p and returns the first sample of each.
func frames(t *testing.T, p *playlist, n int) []int16 {
	t.Helper()
	out := make([]int16, n)
	f := make([]int16, FrameSamples)
	for i := range out {
		if err := p.ReadFrame(f); err != nil {
			t.Fatal(err)
		}
		out[i] = f[FrameSamples/2]
	}
	return out
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestMusicDirSeesChanges: a file added to the directory is played after
// the playlist wraps around, a removed one no longer is, and files of
// other rates play converted. Values identify the files: a constant
// survives resampling exactly.
func TestMusicDirSeesChanges(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.wav", wavBytes(1, 16, 8000, constant(3*FrameSamples, 0.1))) // 3 frames
	p := newDirPlaylist(dir, quietLog())
	defer p.suspend()
	a, b := int16(3277), int16(6553) // 0.1 and 0.2 of full scale
	got := frames(t, p, 6)
	for i, v := range got {
		if v != a {
			t.Fatalf("frame %d: %d, want file a (%d)", i, v, a)
		}
	}
	// A 44.1 kHz stereo file, 4 frames long, added while a plays.
	writeFile(t, dir, "b.wav", wavBytes(1, 16, 44100, constant(4*44100/50, 0.2), constant(4*44100/50, 0.2)))
	got = frames(t, p, 3+4+3)
	want := []int16{a, a, a, b, b, b, b, a, a, a}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("after adding b: frames %v, want %v", got, want)
		}
	}
	if err := os.Remove(filepath.Join(dir, "a.wav")); err != nil {
		t.Fatal(err)
	}
	// b (next in the list), then b alone after the wrap.
	got = frames(t, p, 4+4)
	want = []int16{b, b, b, b, b, b, b, b}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("after removing a: frames %v, want %v", got, want)
		}
	}
}

// TestMusicDirEmptyThenFile: an empty directory plays the melody and looks
// again every rescanFrames; a file that appears is then played.
func TestMusicDirEmptyThenFile(t *testing.T) {
	dir := t.TempDir()
	p := newDirPlaylist(dir, quietLog())
	defer p.suspend()
	frames(t, p, 10)
	if p.fallback == nil {
		t.Fatal("empty directory: no fallback melody")
	}
	writeFile(t, dir, "new.wav", wavBytes(1, 16, 16000, constant(16000, 0.1)))
	got := frames(t, p, rescanFrames)
	first := -1
	for i, v := range got {
		if v == 3277 {
			first = i
			break
		}
	}
	// 10 frames were read since the last scan: the file starts at frame
	// rescanFrames-10 of this read.
	if first != rescanFrames-10 {
		t.Fatalf("file first heard at frame %d of %d, want %d", first, len(got), rescanFrames-10)
	}
	for _, v := range got[first:] {
		if v != 3277 {
			t.Fatalf("file not played throughout: %v", got[first:])
		}
	}
}

// TestMusicDirResume: a converted file resumes where it stopped after the
// class was idle.
func TestMusicDirResume(t *testing.T) {
	dir := t.TempDir()
	n := 22050 // 1 s at 22.05 kHz: a rising ramp, so positions differ
	ramp := make([]float64, n)
	for i := range ramp {
		ramp[i] = float64(i) / float64(n) * 0.9
	}
	writeFile(t, dir, "ramp.wav", wavBytes(1, 16, 22050, ramp))
	ref, err := LoadClip(filepath.Join(dir, "ramp.wav"))
	if err != nil {
		t.Fatal(err)
	}
	p := newDirPlaylist(dir, quietLog())
	frames(t, p, 7)
	p.suspend()
	f := make([]int16, FrameSamples)
	if err := p.ReadFrame(f); err != nil {
		t.Fatal(err)
	}
	p.suspend()
	if !slicesEqual(f, ref.Samples()[7*FrameSamples:8*FrameSamples]) {
		t.Fatalf("resumed frame differs from the decoded clip: %v... want %v...", f[:4], ref.Samples()[7*FrameSamples:7*FrameSamples+4])
	}
}

func TestMusicDirClass(t *testing.T) {
	e := newTestEngine(t)
	dir := t.TempDir()
	writeFile(t, dir, "a.wav", wavBytes(1, 16, 48000, constant(48000, 0.1)))
	c := e.MusicDir("dir", dir)
	if e.MusicDir("dir", "/elsewhere") != c || e.Music("dir", nil) != c {
		t.Fatal("MusicDir does not return the existing class")
	}
	s := newTestSession(t, e)
	far := newPeer(t)
	s.SetRemote(far.addr())
	if err := s.StartMusic(c); err != nil {
		t.Fatal(err)
	}
	pkt := far.mustRecv(waitLong)
	pcm := decode(make([]int16, len(pkt.Payload)), pkt.Payload, kindPCMU)
	if v := pcm[FrameSamples/2]; v < 3000 || v > 3500 {
		t.Fatalf("music sample %d, want about 3277", v)
	}
	s.StopMusic()
}
