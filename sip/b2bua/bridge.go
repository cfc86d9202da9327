package b2bua

import (
	"context"
	"errors"
	"sync"

	"pbx/callctl"
	"pbx/media"
)

var (
	_ callctl.Leg      = (*Leg)(nil)
	_ callctl.Bridge   = (*Bridge)(nil)
	_ callctl.Transfer = (*Transfer)(nil)
)

// Bridge joins two answered legs: their media flows between them, and when
// one hangs up the other is hung up too. A transfer replaces a leg in the
// bridge without ending it. While a leg's far end holds, the other leg
// hears the tenant's hold music.
type Bridge struct {
	call *Call
	keep bool // KeepRemaining

	mu      sync.Mutex
	legs    [2]*Leg
	mb      *media.Bridge
	ended   bool
	recs    []*bridgeRecording // under way; their taps follow Replace
	left    *Leg               // with keep: the leg still up when the bridge ended
	changed chan struct{}
	done    chan struct{}
}

// Bridge bridges two legs (answered, or a caller in early media with an
// answered leg); legs of other calls become the call's own. It fails if a
// leg has ended or is not one of this node's.
func (c *Call) Bridge(x, y callctl.Leg, opts callctl.BridgeOptions) (callctl.Bridge, error) {
	a, aok := x.(*Leg)
	b, bok := y.(*Leg)
	if !aok || !bok || a == nil || b == nil || a == b {
		return nil, errors.New("b2bua: bridge needs two distinct legs of this node")
	}
	br, err := c.bridge(a, b, opts)
	if err != nil {
		return nil, err // not a nil *Bridge in a non-nil interface
	}
	return br, nil
}

func (c *Call) bridge(a, b *Leg, opts callctl.BridgeOptions) (*Bridge, error) {
	br := &Bridge{call: c, legs: [2]*Leg{a, b}, keep: opts.KeepRemaining, changed: make(chan struct{}, 1), done: make(chan struct{})}
	for _, l := range br.legs {
		c.adopt(l)
		l.detach()
	}
	mb, err := media.NewBridge(a.sess, b.sess)
	if err != nil {
		return nil, ErrLegEnded
	}
	br.mb = mb
	for _, l := range br.legs {
		l.mu.Lock()
		l.bridge = br
		l.mu.Unlock()
	}
	br.refreshMusic()
	c.svc.wg.Add(1)
	go br.monitor()
	return br, nil
}

// detach takes the leg out of the bridge it is in, ending that bridge
// without hanging up its other leg.
func (l *Leg) detach() {
	l.mu.Lock()
	br := l.bridge
	l.bridge = nil
	l.mu.Unlock()
	if br != nil {
		br.dissolve()
	}
}

// Done is closed when the bridge has ended.
func (br *Bridge) Done() <-chan struct{} { return br.done }

// Legs returns the two bridged legs.
func (br *Bridge) Legs() (callctl.Leg, callctl.Leg) {
	a, b := br.pair()
	return a, b
}

func (br *Bridge) pair() (*Leg, *Leg) {
	br.mu.Lock()
	defer br.mu.Unlock()
	return br.legs[0], br.legs[1]
}

// Wait returns when the bridge has ended; with KeepRemaining, remaining is
// the leg still up (nil if both ended). It returns ctx.Err() if ctx ends
// first (the bridge goes on).
func (br *Bridge) Wait(ctx context.Context) (callctl.Leg, error) {
	select {
	case <-br.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	br.mu.Lock()
	left := br.left
	br.mu.Unlock()
	if left == nil || left.ended() {
		return nil, nil
	}
	return left, nil
}

// Other returns the leg bridged with l, or nil.
func (br *Bridge) Other(l *Leg) *Leg {
	br.mu.Lock()
	defer br.mu.Unlock()
	switch l {
	case br.legs[0]:
		return br.legs[1]
	case br.legs[1]:
		return br.legs[0]
	}
	return nil
}

func (br *Bridge) monitor() {
	defer br.call.svc.wg.Done()
	for {
		br.mu.Lock()
		a, b, ended := br.legs[0], br.legs[1], br.ended
		br.mu.Unlock()
		if ended {
			return
		}
		var gone, other *Leg
		chA, chB := a.Done(), b.Done()
		if a.parked() {
			chA = nil
		}
		if b.parked() {
			chB = nil
		}
		select {
		case <-br.changed:
			continue
		case <-chA:
			gone, other = a, b
		case <-chB:
			gone, other = b, a
		}
		if gone.parked() {
			continue
		}
		br.mu.Lock()
		still := !br.ended && (br.legs[0] == gone || br.legs[1] == gone)
		br.mu.Unlock()
		if !still {
			continue
		}
		cause := gone.Cause()
		if cause == CauseTransferred {
			cause = CauseNormal
		}
		if br.keep {
			br.mu.Lock()
			br.left = other
			br.mu.Unlock()
			br.end()
			return
		}
		// The other leg ends first, so that whoever waits for the
		// bridge finds it ended with the cause, not still up.
		other.Hangup(cause)
		br.end()
		return
	}
}

func (br *Bridge) end() bool {
	br.mu.Lock()
	if br.ended {
		br.mu.Unlock()
		return false
	}
	br.ended = true
	legs := br.legs
	br.mu.Unlock()
	br.mb.Close()
	for _, l := range legs {
		l.mu.Lock()
		if l.bridge == br {
			l.bridge = nil
		}
		l.mu.Unlock()
		l.sess.StopMusic()
	}
	close(br.done)
	select {
	case br.changed <- struct{}{}:
	default:
	}
	return true
}

// dissolve ends the bridge leaving both legs up.
func (br *Bridge) dissolve() { br.end() }

// Unbridge ends the bridge and leaves both legs up (for example to play
// them a prompt); Done is closed.
func (br *Bridge) Unbridge() { br.end() }

// Replace puts leg n in the place of old (a transfer the program makes):
// old leaves the bridge and stays up; recordings follow n.
func (br *Bridge) Replace(old, n callctl.Leg) error {
	o, ook := old.(*Leg)
	nl, nok := n.(*Leg)
	if !ook || !nok || o == nil || nl == nil || o == nl {
		return errors.New("b2bua: replace needs two distinct legs of this node")
	}
	return br.replace(o, nl)
}

// replace puts leg n in the place of leg old, keeping the bridge.
func (br *Bridge) replace(old, n *Leg) error {
	n.detach()
	br.call.adopt(n)
	br.mu.Lock()
	if br.ended {
		br.mu.Unlock()
		return ErrLegEnded
	}
	idx := -1
	for i, l := range br.legs {
		if l == old {
			idx = i
		}
	}
	if idx < 0 {
		br.mu.Unlock()
		return errors.New("b2bua: leg not in bridge")
	}
	br.legs[idx] = n
	keep := br.legs[1-idx]
	mb, err := media.NewBridge(keep.sess, n.sess)
	if err != nil {
		br.mu.Unlock()
		return ErrLegEnded
	}
	br.mb = mb
	br.moveRecordings(idx, n)
	br.mu.Unlock()
	old.mu.Lock()
	if old.bridge == br {
		old.bridge = nil
	}
	old.mu.Unlock()
	old.sess.StopMusic()
	n.mu.Lock()
	n.bridge = br
	n.mu.Unlock()
	br.refreshMusic()
	select {
	case br.changed <- struct{}{}:
	default:
	}
	return nil
}

// refreshMusic makes each leg hear music exactly while the other holds.
func (br *Bridge) refreshMusic() {
	br.mu.Lock()
	a, b, ended := br.legs[0], br.legs[1], br.ended
	br.mu.Unlock()
	if ended {
		return
	}
	for _, p := range [][2]*Leg{{a, b}, {b, a}} {
		holder, listener := p[0], p[1]
		if holder.Held() {
			_ = listener.sess.StartMusic(br.call.svc.holdMusic(br.call.tenantID()))
		} else {
			listener.sess.StopMusic()
		}
	}
}
