package b2bua

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"pbx/callctl"
)

// Why a dial's context ended, read back with context.Cause: the losers of
// a dial that someone won get CANCEL with a Reason header (RFC 3326).
var (
	errAnsweredElsewhere = errors.New("b2bua: dial answered elsewhere")
	errCallerGone        = errors.New("b2bua: the caller hung up")
	errDialOver          = errors.New("b2bua: the dial is over")
)

// cancelled is the cause of a dial stopped by Dialing.Cancel.
type cancelled struct{ cause Cause }

func (c cancelled) Error() string { return "b2bua: dial cancelled: " + string(c.cause) }

// Dialing is a dial under way.
type Dialing struct {
	c      *Call
	spec   callctl.DialSpec
	caller *Leg            // the leg waiting for the dial, if any
	ctx    context.Context // the whole dial; its cause says why it ended
	cancel context.CancelCauseFunc
	done   chan struct{}
	wake   chan struct{} // Add queued a destination

	mu     sync.Mutex
	dests  []callctl.Destination // spec's, then those of Add, by index
	queued int                   // dests[queued:] are not yet started
	over   bool                  // no destination can be added any more
	won    bool
	res    callctl.DialResult
	err    error

	ringOnce sync.Once
	early    earlyRelay
	// try rings one target (attempt; tests put a script in its place).
	try func(ctx context.Context, idx int, dest callctl.Destination, t callctl.Target) attemptResult
}

var _ callctl.Dialing = (*Dialing)(nil)

func newDialing(c *Call, parent context.Context, spec callctl.DialSpec, caller *Leg) *Dialing {
	d := &Dialing{c: c, spec: spec, caller: caller, done: make(chan struct{}), wake: make(chan struct{}, 1)}
	d.try = d.attempt
	d.ctx, d.cancel = context.WithCancelCause(parent)
	d.dests = slices.Clone(spec.Destinations)
	return d
}

// Add rings one more destination with this dial. Its index in the result
// follows those of the spec and of earlier Adds.
func (d *Dialing) Add(dest callctl.Destination) error {
	d.mu.Lock()
	if d.over || d.won {
		d.mu.Unlock()
		return errDialOver
	}
	d.dests = append(d.dests, dest)
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
	return nil
}

// PickUp ends the dial as answered by leg (call pickup): every destination
// gets CANCEL with "Call completed elsewhere"; leg becomes the call's.
func (d *Dialing) PickUp(l callctl.Leg) error {
	leg, ok := l.(*Leg)
	if !ok || leg == nil {
		return errors.New("b2bua: pick-up needs a leg of this node")
	}
	d.mu.Lock()
	if d.won || d.over {
		d.mu.Unlock()
		return errDialOver
	}
	d.won = true
	d.res = callctl.DialResult{Leg: leg, Destination: -1, PickedUp: true}
	d.mu.Unlock()
	d.c.adopt(leg)
	d.cancel(errAnsweredElsewhere)
	return nil
}

// Cancel stops the dial; Wait then returns a DialError with cause.
func (d *Dialing) Cancel(cause Cause) { d.cancel(cancelled{cause}) }

// Wait returns who answered, or a *DialError. The dial goes on when ctx
// ends first.
func (d *Dialing) Wait(ctx context.Context) (callctl.DialResult, error) {
	select {
	case <-d.done:
	case <-ctx.Done():
		return callctl.DialResult{}, ctx.Err()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.res, d.err
}

// Done is closed when the dial is over.
func (d *Dialing) Done() <-chan struct{} { return d.done }

func (d *Dialing) run() {
	defer close(d.done)
	if w := d.caller; w != nil {
		stop := make(chan struct{})
		defer close(stop)
		d.c.svc.spawn(func() {
			select {
			case <-w.Done():
				d.cancel(errCallerGone)
			case <-stop:
			}
		})
	}
	var err error
	if d.spec.Strategy == callctl.Sequential {
		err = d.sequential()
	} else {
		err = d.simultaneous()
	}
	d.mu.Lock()
	d.over = true
	won := d.won
	if !won {
		d.err = err
	}
	res := d.res
	d.mu.Unlock()
	if early := d.early.current(); !won || early == nil || res.Leg != callctl.Leg(early) {
		d.early.stop(nil)
	}
	if !won {
		d.c.dialFailed(err)
	} else {
		d.cancel(errAnsweredElsewhere)
	}
}

// next hands out the destinations not yet started.
func (d *Dialing) next() (int, callctl.Destination, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.queued >= len(d.dests) {
		if d.spec.Strategy == callctl.Sequential {
			d.over = true // a hunt that ran out of destinations is over
		}
		return 0, callctl.Destination{}, false
	}
	i := d.queued
	d.queued++
	return i, d.dests[i], true
}

// ringTime is how long destination dest rings.
func (d *Dialing) ringTime(dest callctl.Destination) time.Duration {
	switch {
	case dest.Timeout > 0:
		return dest.Timeout
	case d.spec.Timeout > 0:
		return d.spec.Timeout
	}
	return 60 * time.Second
}

type destResult struct {
	won    bool
	err    error
	status int
}

// simultaneous rings every destination (after its Delay) until one wins,
// all failed, or the dial's Timeout (default 60 s) ends.
func (d *Dialing) simultaneous() error {
	timeout := d.spec.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(d.ctx, timeout)
	defer cancel()
	results := make(chan destResult)
	pending := 0
	start := func(i int, dest callctl.Destination) {
		pending++
		d.c.svc.spawn(func() {
			r := destResult{err: &DialError{Cause: CauseCancelled, Status: 487}}
			if dest.Delay <= 0 || sleep(ctx, dest.Delay) {
				r = d.ringDest(ctx, i, dest)
			}
			select {
			case results <- r:
			case <-d.done:
			}
		})
	}
	var errs []error
	for {
		for i, dest, ok := d.next(); ok; i, dest, ok = d.next() {
			start(i, dest)
		}
		if pending == 0 && d.closeIfIdle() {
			break
		}
		if pending == 0 {
			continue
		}
		select {
		case r := <-results:
			pending--
			if r.won {
				return nil
			}
			errs = append(errs, r.err)
		case <-d.wake:
		}
	}
	return d.failure(errs)
}

// closeIfIdle ends the adding of destinations unless one was added and
// not yet started.
func (d *Dialing) closeIfIdle() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.queued < len(d.dests) {
		return false
	}
	d.over = true
	return true
}

// sequential rings the destinations one after the other until one wins,
// StopOn accepts a failure, or none is left.
func (d *Dialing) sequential() error {
	var errs []error
	for i, dest, ok := d.next(); ok; i, dest, ok = d.next() {
		r := d.ringDest(d.ctx, i, dest)
		if r.won {
			return nil
		}
		if d.ctx.Err() != nil {
			break
		}
		if d.spec.StopOn != nil && d.spec.StopOn(r.status) {
			return r.err
		}
		errs = append(errs, r.err)
	}
	return d.failure(errs)
}

// failure is the error of a dial that nobody won.
func (d *Dialing) failure(errs []error) error {
	if d.ctx.Err() != nil {
		var c cancelled
		if errors.As(context.Cause(d.ctx), &c) {
			return &DialError{Cause: c.cause}
		}
		return &DialError{Cause: CauseCancelled, Status: 487}
	}
	if len(errs) == 0 {
		return &DialError{Cause: CauseUnavailable, Status: 480}
	}
	return worst(errs)
}

// sleep waits for d or ctx; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// ringDest rings one destination's targets together for its ring time.
func (d *Dialing) ringDest(parent context.Context, idx int, dest callctl.Destination) destResult {
	if len(dest.Targets) == 0 {
		return destResult{err: &DialError{Cause: CauseUnavailable, Status: 480}, status: 480}
	}
	ctx, cancel := context.WithTimeout(parent, d.ringTime(dest))
	defer cancel()
	results := make(chan attemptResult, len(dest.Targets))
	for _, t := range dest.Targets {
		d.c.svc.spawn(func() { results <- d.try(ctx, idx, dest, t) })
	}
	var statuses []int
	declined := false
	for range dest.Targets {
		r := <-results
		if r.won {
			return destResult{won: true}
		}
		if r.declined && !declined {
			// Confirm said no: the destination is out, its other
			// targets stop ringing.
			declined = true
			cancel()
		}
		statuses = append(statuses, r.status)
	}
	if declined {
		return destResult{err: &DialError{Cause: CauseRejected, Status: 603}, status: 603}
	}
	if d.ctx.Err() != nil {
		// The dial was stopped (or won): not this destination's doing.
		return destResult{err: &DialError{Cause: CauseCancelled, Status: 487}, status: 487}
	}
	for _, st := range statuses {
		if st == 486 || st == 600 {
			return destResult{err: &DialError{Cause: CauseBusy, Status: st}, status: st}
		}
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return destResult{err: &DialError{Cause: CauseNoAnswer, Status: 480}, status: 480}
	}
	// Every target failed on our side (no RTP port left, say): the callee
	// is not to blame, so the caller learns the server is out of capacity.
	if !slices.ContainsFunc(statuses, func(st int) bool { return st != 503 }) {
		return destResult{err: &DialError{Cause: CauseCongestion, Status: 503}, status: 503}
	}
	st := statuses[len(statuses)-1]
	if cause := causeOfStatus(st); cause != CauseFailure && cause != CauseCancelled {
		return destResult{err: &DialError{Cause: cause, Status: st}, status: st}
	}
	return destResult{err: &DialError{Cause: CauseUnavailable, Status: 480}, status: st}
}

// claim makes leg the winner of the dial unless another won or the dial
// ended; the losers then get CANCEL with "Call completed elsewhere".
func (d *Dialing) claim(idx int, dest callctl.Destination, leg *Leg) bool {
	d.mu.Lock()
	if d.won || d.ctx.Err() != nil {
		d.mu.Unlock()
		return false
	}
	d.won = true
	d.res = callctl.DialResult{Leg: leg, Destination: idx, Tag: dest.Tag}
	d.mu.Unlock()
	d.c.adopt(leg)
	d.c.answeredBy(leg)
	d.cancel(errAnsweredElsewhere)
	return true
}

// ring tells the waiting caller, once, that a destination rings; a caller
// hearing early media is not sent 180 (which may silence it).
func (d *Dialing) ring() {
	d.ringOnce.Do(func() {
		if d.caller != nil && !d.early.progressed() {
			d.caller.Ring()
		}
	})
}

// worst picks the error that describes a failed set of attempts best: busy
// beats no answer beats everything else.
func worst(errs []error) error {
	rank := func(c Cause) int {
		switch c {
		case CauseCancelled:
			return 5
		case CauseBusy:
			return 4
		case CauseNoAnswer:
			return 3
		case CauseRejected:
			return 2
		case CauseNotAcceptable:
			return 1
		}
		return 0
	}
	var best error
	for _, e := range errs {
		if best == nil || rank(CauseOf(e)) > rank(CauseOf(best)) {
			best = e
		}
	}
	return best
}
