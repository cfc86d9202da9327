package media

import (
	"errors"
	"io"
	"testing"
	"time"
)

// closeCount is a Source of n frames of value v that counts its Close calls.
type closeCount struct {
	v      int16
	n      int
	closed int
	err    error
}

func (c *closeCount) ReadFrame(f []int16) error {
	if c.n == 0 {
		if c.err != nil {
			return c.err
		}
		return io.EOF
	}
	c.n--
	for i := range f {
		f[i] = c.v
	}
	return nil
}

func (c *closeCount) Close() error { c.closed++; return nil }

func TestSequence(t *testing.T) {
	a, b := &closeCount{v: 1, n: 2}, &closeCount{v: 2, n: 1}
	seq := Sequence(a, Silence(20*time.Millisecond), b)
	f := make([]int16, FrameSamples)
	var got []int16
	for i := 0; ; i++ {
		err := seq.ReadFrame(f)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil || i > 10 {
			t.Fatalf("frame %d: %v", i, err)
		}
		got = append(got, f[0])
		if i == 1 && a.closed != 0 {
			t.Fatal("first source closed before it ended")
		}
	}
	if want := []int16{1, 1, 0, 2}; len(got) != len(want) || got[0] != 1 || got[1] != 1 || got[2] != 0 || got[3] != 2 {
		t.Fatalf("frames %v, want %v", got, want)
	}
	if a.closed != 1 || b.closed != 1 {
		t.Fatalf("closed a %d, b %d times; want once each", a.closed, b.closed)
	}
	if err := seq.ReadFrame(f); !errors.Is(err, io.EOF) {
		t.Fatalf("after the end: %v", err)
	}
	seq.(io.Closer).Close()
	if a.closed != 1 || b.closed != 1 {
		t.Fatal("Close after the end closed a source again")
	}
}

func TestSequenceCloseAndError(t *testing.T) {
	a, b, c := &closeCount{v: 1, n: 1}, &closeCount{v: 2, n: 1}, &closeCount{v: 3, n: 1}
	seq := Sequence(a, b, c)
	f := make([]int16, FrameSamples)
	seq.ReadFrame(f)
	seq.ReadFrame(f) // a ends, b plays
	if err := seq.(io.Closer).Close(); err != nil {
		t.Fatal(err)
	}
	if a.closed != 1 || b.closed != 1 || c.closed != 1 {
		t.Fatalf("closed %d %d %d", a.closed, b.closed, c.closed)
	}
	if err := seq.ReadFrame(f); !errors.Is(err, io.EOF) {
		t.Fatalf("read after Close: %v", err)
	}

	boom := errors.New("boom")
	x, y := &closeCount{v: 1, n: 1, err: boom}, &closeCount{v: 2, n: 1}
	seq = Sequence(x, y)
	seq.ReadFrame(f)
	if err := seq.ReadFrame(f); !errors.Is(err, boom) {
		t.Fatalf("got %v, want the source's error", err)
	}
	if x.closed != 1 || y.closed != 0 {
		t.Fatalf("closed %d %d", x.closed, y.closed)
	}
	seq.(io.Closer).Close()
	if y.closed != 1 {
		t.Fatal("Close did not close the unplayed source")
	}
}
