package fake

import (
	"context"
	"errors"
	"io"
	"sync"

	"pbx/callctl"
)

// Bridge is a fake callctl.Bridge. Like the real one, when one leg ends
// the other is hung up with the same cause, or handed back by Wait with
// KeepRemaining. A goroutine watches the legs until the bridge ends.
type Bridge struct {
	opts callctl.BridgeOptions

	mu         sync.Mutex
	legs       [2]callctl.Leg
	ended      bool
	remaining  callctl.Leg
	unbridged  bool
	replaced   []callctl.Leg // legs that left by Replace, in order
	recordings []callctl.RecordSpec
	changed    chan struct{} // wakes the watcher after Replace or Unbridge
	done       chan struct{}
}

var _ callctl.Bridge = (*Bridge)(nil)

func newBridge(a, b callctl.Leg, opts callctl.BridgeOptions) (*Bridge, error) {
	if a == nil || b == nil || a == b {
		return nil, errors.New("fake: bridge needs two distinct legs")
	}
	if a.State() == callctl.LegEnded || b.State() == callctl.LegEnded {
		return nil, callctl.ErrLegEnded
	}
	br := &Bridge{opts: opts, legs: [2]callctl.Leg{a, b}, changed: make(chan struct{}, 1), done: make(chan struct{})}
	go br.watch()
	return br, nil
}

func (br *Bridge) watch() {
	for {
		br.mu.Lock()
		if br.ended {
			br.mu.Unlock()
			return
		}
		a, b := br.legs[0], br.legs[1]
		br.mu.Unlock()
		select {
		case <-br.changed:
			continue
		case <-a.Done():
			br.legEnded(a, b)
		case <-b.Done():
			br.legEnded(b, a)
		}
	}
}

func (br *Bridge) legEnded(gone, other callctl.Leg) {
	br.mu.Lock()
	if br.ended || (br.legs[0] != gone && br.legs[1] != gone) {
		br.mu.Unlock()
		return
	}
	br.ended = true
	if br.opts.KeepRemaining && other.State() != callctl.LegEnded {
		br.remaining = other
	}
	br.mu.Unlock()
	if !br.opts.KeepRemaining {
		other.Hangup(gone.Cause())
	}
	close(br.done)
}

func (br *Bridge) Legs() (callctl.Leg, callctl.Leg) {
	br.mu.Lock()
	defer br.mu.Unlock()
	return br.legs[0], br.legs[1]
}

func (br *Bridge) Done() <-chan struct{} { return br.done }

func (br *Bridge) Wait(ctx context.Context) (callctl.Leg, error) {
	select {
	case <-br.done:
		br.mu.Lock()
		defer br.mu.Unlock()
		return br.remaining, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (br *Bridge) Unbridge() {
	br.mu.Lock()
	if br.ended {
		br.mu.Unlock()
		return
	}
	br.ended, br.unbridged = true, true
	br.mu.Unlock()
	br.wake()
	close(br.done)
}

func (br *Bridge) Replace(old, n callctl.Leg) error {
	br.mu.Lock()
	defer br.mu.Unlock()
	if br.ended {
		return errors.New("fake: bridge has ended")
	}
	for i, l := range br.legs {
		if l == old {
			br.legs[i] = n
			br.replaced = append(br.replaced, old)
			br.wake()
			return nil
		}
	}
	return errors.New("fake: leg not in the bridge")
}

func (br *Bridge) wake() {
	select {
	case br.changed <- struct{}{}:
	default:
	}
}

// Record records spec and returns a recording that ends when stopped, when
// ctx ends or when the bridge ends; it writes nothing to w.
func (br *Bridge) Record(ctx context.Context, w io.WriteSeeker, spec callctl.RecordSpec) (callctl.Recording, error) {
	br.mu.Lock()
	defer br.mu.Unlock()
	if br.ended {
		return nil, errors.New("fake: bridge has ended")
	}
	br.recordings = append(br.recordings, spec)
	r := &recording{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		res := callctl.RecordResult{Stop: callctl.RecordCancelled}
		select {
		case <-r.stop:
		case <-ctx.Done():
		case <-br.done:
			res.Stop = callctl.RecordHangup
		}
		r.res = res
		close(r.done)
	}()
	return r, nil
}

// Unbridged reports whether the program ended the bridge with Unbridge.
func (br *Bridge) Unbridged() bool {
	br.mu.Lock()
	defer br.mu.Unlock()
	return br.unbridged
}

// Replaced are the legs that left the bridge by Replace, in order.
func (br *Bridge) Replaced() []callctl.Leg {
	br.mu.Lock()
	defer br.mu.Unlock()
	return append([]callctl.Leg(nil), br.replaced...)
}

// Recordings are the specs of each Record, in order.
func (br *Bridge) Recordings() []callctl.RecordSpec {
	br.mu.Lock()
	defer br.mu.Unlock()
	return append([]callctl.RecordSpec(nil), br.recordings...)
}

type recording struct {
	once sync.Once
	stop chan struct{}
	done chan struct{}
	res  callctl.RecordResult // written before done is closed
}

func (r *recording) Stop() callctl.RecordResult {
	r.once.Do(func() { close(r.stop) })
	<-r.done
	return r.res
}

func (r *recording) Done() <-chan struct{} { return r.done }

func (r *recording) Result() callctl.RecordResult {
	<-r.done
	return r.res
}
