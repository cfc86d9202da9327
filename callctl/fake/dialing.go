package fake

import (
	"context"
	"errors"
	"sync"

	"pbx/callctl"
)

// Dialing is a fake callctl.Dialing: Wait resolves the call's scripted
// outcomes in the order of the strategy, without ringing for any time.
type Dialing struct {
	call *Call
	spec callctl.DialSpec

	mu       sync.Mutex
	dests    []callctl.Destination
	cancel   callctl.Cause
	pickedUp callctl.Leg
	resolved bool
	res      callctl.DialResult
	err      error
}

var _ callctl.Dialing = (*Dialing)(nil)

func (d *Dialing) Add(dest callctl.Destination) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.resolved || d.cancel != "" {
		return errors.New("fake: dial is over")
	}
	d.dests = append(d.dests, dest)
	return nil
}

func (d *Dialing) PickUp(leg callctl.Leg) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.resolved || d.cancel != "" {
		return errors.New("fake: dial is over")
	}
	d.pickedUp = leg
	return nil
}

func (d *Dialing) Cancel(cause callctl.Cause) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.resolved && d.cancel == "" {
		d.cancel = cause
	}
}

// Wait decides the dial once: a cancel or pick-up first; a caller that has
// hung up cancels it; then the destinations' outcomes.
func (d *Dialing) Wait(ctx context.Context) (callctl.DialResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.resolved {
		return d.res, d.err
	}
	d.resolved = true
	caller := d.spec.Caller
	if caller == nil {
		caller = d.call.Inbound()
	}
	switch {
	case d.cancel != "":
		d.err = &callctl.DialError{Cause: d.cancel}
	case d.pickedUp != nil:
		d.res = callctl.DialResult{Leg: d.pickedUp, Destination: -1, PickedUp: true}
	case ctx.Err() != nil:
		d.err = ctx.Err()
	case caller != nil && caller.State() == callctl.LegEnded:
		d.err = &callctl.DialError{Cause: callctl.CauseCancelled, Status: 487}
	default:
		d.res, d.err = d.resolve()
	}
	return d.res, d.err
}

func (d *Dialing) resolve() (callctl.DialResult, error) {
	if len(d.dests) == 0 {
		return callctl.DialResult{}, &callctl.DialError{Cause: callctl.CauseUnavailable, Status: 480}
	}
	var failed *callctl.DialError
	for i, dest := range d.dests {
		o := d.call.outcome(dest)
		if o.Cause == "" {
			leg := newAnsweredLeg(dest.Callee)
			d.call.mu.Lock()
			d.call.legs = append(d.call.legs, leg)
			d.call.mu.Unlock()
			return callctl.DialResult{Leg: leg, Destination: i, Tag: dest.Tag}, nil
		}
		e := &callctl.DialError{Cause: o.Cause, Status: o.Status}
		if d.spec.Strategy == callctl.Sequential {
			failed = e
			if d.spec.StopOn != nil && d.spec.StopOn(o.Status) {
				break
			}
			continue
		}
		if failed == nil || rank(e.Cause) > rank(failed.Cause) {
			failed = e
		}
	}
	return callctl.DialResult{}, failed
}

// rank orders the failures of a simultaneous dial as the b2bua does: busy
// says more than no answer, which says more than anything else.
func rank(c callctl.Cause) int {
	switch c {
	case callctl.CauseBusy:
		return 2
	case callctl.CauseNoAnswer:
		return 1
	}
	return 0
}
