package media

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-audio/audio"
	"github.com/go-audio/wav"
	"github.com/zaf/g711"
)

func TestPlaybackPacing(t *testing.T) {
	e := newTestEngine(t)
	s := newTestSession(t, e)
	fe := newPeer(t)
	s.SetRemote(fe.addr())

	const frames = 25
	src := &toneSource{frames: frames}
	start := time.Now()
	pb, err := s.Play(src)
	if err != nil {
		t.Fatal(err)
	}
	check := streamCheck{t: t}
	for i := 0; i < frames; i++ {
		out := fe.mustRecv(waitLong)
		want := encode(make([]byte, FrameSamples), sine(FrameSamples, 1000, 8000, i*FrameSamples), kindPCMU)
		if !bytes.Equal(out.Payload, want) {
			t.Fatalf("frame %d: payload is not the source encoded as PCMU", i)
		}
		if i > 0 && out.Timestamp-check.ts != FrameSamples {
			t.Fatalf("frame %d: timestamp step %d", i, out.Timestamp-check.ts)
		}
		check.add(out)
	}
	elapsed := time.Since(start)
	select {
	case <-pb.Done():
	case <-time.After(waitLong):
		t.Fatal("playback did not end")
	}
	if err := pb.Err(); err != nil {
		t.Fatal(err)
	}
	fe.expectNothing(100 * time.Millisecond)
	// Frames go out on a 20 ms ticker, which never fires early: 25 frames
	// cannot take less than 24 intervals. (No upper bound: a loaded
	// machine may be slow.)
	if min := (frames - 1) * FrameInterval; elapsed < min {
		t.Fatalf("%d frames in %v: not paced (at least %v expected)", frames, elapsed, min)
	}
	t.Logf("%d frames in %v", frames, elapsed)
}

// TestPlaybackPausesBridge: a prompt played to a bridged session replaces
// what the bridge sends it; the bridge resumes when the prompt ends.
func TestPlaybackPausesBridge(t *testing.T) {
	p := newPair(t, PCMU, PCMU)
	p.pa.send(p.sa.LocalAddr(), 0, payloadOf(1, FrameSamples))
	check := streamCheck{t: t}
	check.add(p.pb.mustRecv(waitLong))

	pb, err := p.sb.Play(&toneSource{frames: 10})
	if err != nil {
		t.Fatal(err)
	}
	relayed := payloadOf(2, FrameSamples)
	for i := 0; i < 10; i++ {
		p.pa.send(p.sa.LocalAddr(), 0, relayed) // must not reach b during the prompt
		out := p.pb.mustRecv(waitLong)
		if bytes.Equal(out.Payload, relayed) {
			t.Fatal("bridge audio leaked into the prompt")
		}
		check.add(out)
	}
	<-pb.Done()
	p.pb.expectNothing(50 * time.Millisecond)
	p.pa.send(p.sa.LocalAddr(), 0, relayed)
	out := p.pb.mustRecv(waitLong)
	if !bytes.Equal(out.Payload, relayed) {
		t.Fatal("bridge did not resume")
	}
	check.add(out)

	// Stopping a long prompt early also resumes the bridge.
	pb, _ = p.sb.Play(Melody())
	check.add(p.pb.mustRecv(waitLong))
	p.sb.StopPlayback()
	<-pb.Done()
	p.pb.drain(50 * time.Millisecond)
	p.pa.send(p.sa.LocalAddr(), 0, relayed)
	if out := p.pb.mustRecv(waitLong); !bytes.Equal(out.Payload, relayed) {
		t.Fatal("bridge did not resume after StopPlayback")
	}
}

func writeWAV(t *testing.T, path string, samples []int16, rate int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	enc := wav.NewEncoder(f, rate, 16, 1, 1)
	data := make([]int, len(samples))
	for i, s := range samples {
		data[i] = int(s)
	}
	buf := &audio.IntBuffer{Data: data, Format: &audio.Format{NumChannels: 1, SampleRate: rate}, SourceBitDepth: 16}
	if err := enc.Write(buf); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func TestWAVSource(t *testing.T) {
	dir := t.TempDir()
	samples := sine(2*FrameSamples+50, 700, 9000, 0) // two frames and a bit
	path := filepath.Join(dir, "prompt.wav")
	writeWAV(t, path, samples, 8000)

	w, err := OpenWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if w.Samples() != int64(len(samples)) {
		t.Fatalf("%d samples, want %d", w.Samples(), len(samples))
	}
	f := make([]int16, FrameSamples)
	var got []int16
	for {
		if err := w.ReadFrame(f); err != nil {
			if err != errEOF {
				t.Fatal(err)
			}
			break
		}
		got = append(got, f...)
	}
	if len(got) != 3*FrameSamples {
		t.Fatalf("%d samples read, want 3 padded frames", len(got))
	}
	for i, s := range samples {
		if got[i] != s {
			t.Fatalf("sample %d: %d, want %d", i, got[i], s)
		}
	}
	for _, s := range got[len(samples):] {
		if s != 0 {
			t.Fatal("last frame not padded with silence")
		}
	}

	// Looping wraps around seamlessly.
	w2, _ := OpenWAV(path)
	defer w2.Close()
	w2.Loop = true
	for i := 0; i < 10; i++ {
		if err := w2.ReadFrame(f); err != nil {
			t.Fatal(err)
		}
		for j, s := range f {
			if k := (i*FrameSamples + j) % len(samples); s != samples[k] {
				t.Fatalf("loop frame %d sample %d: %d, want %d", i, j, s, samples[k])
			}
		}
	}

	// Wrong formats are refused with a clear error.
	bad := filepath.Join(dir, "16k.wav")
	writeWAV(t, bad, samples, 16000)
	if _, err := OpenWAV(bad); err == nil {
		t.Fatal("16 kHz file accepted")
	}
	if _, err := OpenWAV(filepath.Join(dir, "missing.wav")); err == nil {
		t.Fatal("missing file accepted")
	}
	junk := filepath.Join(dir, "junk.wav")
	os.WriteFile(junk, []byte("RIFF\x00\x00\x00\x00WAVEjunkjunk"), 0o644)
	if _, err := OpenWAV(junk); err == nil {
		t.Fatal("junk accepted")
	}
}

// TestPlayWAVToPCMA plays a file to a PCMA session end to end.
func TestPlayWAVToPCMA(t *testing.T) {
	dir := t.TempDir()
	samples := sine(3*FrameSamples, 500, 12000, 0)
	path := filepath.Join(dir, "p.wav")
	writeWAV(t, path, samples, 8000)
	w, err := OpenWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	e := newTestEngine(t)
	s := newTestSession(t, e)
	s.SetCodec(PCMA)
	fe := newPeer(t)
	s.SetRemote(fe.addr())
	pb, err := s.Play(w)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		out := fe.mustRecv(waitLong)
		if out.PayloadType != 8 {
			t.Fatalf("payload type %d", out.PayloadType)
		}
		for j, b := range out.Payload {
			x := samples[i*FrameSamples+j]
			if y := g711.DecodeAlawFrame(b); !within(x, y, x) {
				t.Fatalf("frame %d sample %d: %d -> %d", i, j, x, y)
			}
		}
	}
	if err := pb.Err(); err != nil {
		t.Fatal(err)
	}
}
