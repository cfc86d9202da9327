package media

import (
	"bytes"
	"os"
	"testing"
	"time"
)

func TestMusicSharedStream(t *testing.T) {
	e := newTestEngine(t)
	files := MusicFiles(DefaultMusicDir)
	if len(files) == 0 {
		t.Log("no music files in", DefaultMusicDir, "- the class plays the generated melody")
	}
	class := e.Music("moh", files)
	if e.Music("moh", nil) != class {
		t.Fatal("Music does not return the existing class")
	}

	s1, s2 := newTestSession(t, e), newTestSession(t, e)
	p1, p2 := newPeer(t), newPeer(t)
	s1.SetRemote(p1.addr())
	s2.SetRemote(p2.addr())
	if err := s1.StartMusic(class); err != nil {
		t.Fatal(err)
	}
	if err := s2.StartMusic(class); err != nil {
		t.Fatal(err)
	}
	if n := class.Listeners(); n != 2 {
		t.Fatalf("%d listeners", n)
	}
	if n := e.Stats().MusicStreams; n != 1 {
		t.Fatalf("%d music goroutines for one class, want 1", n)
	}

	// Both hear the same frames, each under its own stream header.
	c1, c2 := streamCheck{t: t}, streamCheck{t: t}
	var got1, got2 [][]byte
	for i := 0; i < 30; i++ {
		a, b := p1.mustRecv(waitLong), p2.mustRecv(waitLong)
		c1.add(a)
		c2.add(b)
		got1, got2 = append(got1, a.Payload), append(got2, b.Payload)
	}
	if c1.ssrc == c2.ssrc {
		t.Fatal("two listeners share an SSRC")
	}
	// Align: the second listener may have joined a tick later.
	off := -1
	for k := 0; k < 5 && off < 0; k++ {
		if bytes.Equal(got1[k], got2[0]) {
			off = k
		} else if bytes.Equal(got2[k], got1[0]) {
			off = -k - 100
		}
	}
	if off == -1 {
		t.Fatal("listeners do not hear the same stream")
	}
	a, b := got1, got2
	if off <= -100 {
		a, b, off = got2, got1, -off-100
	}
	for i := 0; i+off < len(a); i++ {
		if !bytes.Equal(a[i+off], b[i]) {
			t.Fatalf("frame %d differs between listeners", i)
		}
	}
	frames, encodes := class.frames.Load(), class.encodes.Load()
	if encodes > frames {
		t.Fatalf("%d encodings for %d frames: the frame is encoded per listener", encodes, frames)
	}

	// A PCMA listener adds exactly one encoding per frame, not a stream.
	s3 := newTestSession(t, e)
	s3.SetCodec(PCMA)
	p3 := newPeer(t)
	s3.SetRemote(p3.addr())
	s3.StartMusic(class)
	p3.mustRecv(waitLong)
	f0, e0 := class.frames.Load(), class.encodes.Load()
	for i := 0; i < 10; i++ {
		p1.mustRecv(waitLong)
	}
	f1, e1 := class.frames.Load(), class.encodes.Load()
	if e1-e0 > 2*(f1-f0) {
		t.Fatalf("%d encodings for %d frames with two codecs", e1-e0, f1-f0)
	}
	if n := e.Stats().MusicStreams; n != 1 {
		t.Fatalf("%d music goroutines, want 1", n)
	}

	// The stream stops when nobody listens.
	s1.StopMusic()
	s2.StopMusic()
	s3.Close()
	waitFor(t, "music goroutine to stop", func() bool { return e.Stats().MusicStreams == 0 })
	p1.drain(50 * time.Millisecond)
	p1.expectNothing(100 * time.Millisecond)
	if len(files) > 0 && class.src.fallback != nil {
		t.Fatal("music files were not played")
	}
}

func TestMusicFallbackMelody(t *testing.T) {
	e := newTestEngine(t)
	class := e.Music("broken", []string{"/nonexistent/a.wav", os.DevNull})
	s := newTestSession(t, e)
	fe := newPeer(t)
	s.SetRemote(fe.addr())
	s.StartMusic(class)
	silent := true
	for i := 0; i < 10; i++ {
		out := fe.mustRecv(waitLong)
		for _, b := range out.Payload {
			if b != 0xff && b != 0x7f { // µ-law silence
				silent = false
			}
		}
	}
	if silent {
		t.Fatal("fallback plays silence")
	}
}
