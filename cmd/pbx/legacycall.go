package main

// TEMPORARY: this file adapts today's *b2bua.Call and *b2bua.Transfer to
// the callctl interfaces that the dialplan is written against, until the
// b2bua's Call implements callctl.Call itself (its legs and bridges
// already do); then it is deleted and the b2bua calls the dialplan
// directly. Dialling is adapted for what the dialplan and the hunt groups
// use (several destinations, at once or one after the other, each a b2bua
// dial of its own; no early media relay, no credentials for a carrier's
// challenge); the rest of a running dial's handle fails with
// errNotAdapted.

import (
	"context"
	"errors"

	"pbx/callctl"
	"pbx/sip/b2bua"
)

var errNotAdapted = errors.New("pbx: primitive not available through the b2bua adapter yet")

type legacyCall struct{ c *b2bua.Call }

var _ callctl.Call = legacyCall{}

func (c legacyCall) ID() string                { return c.c.Inbound.CallID() }
func (c legacyCall) Origin() callctl.Origin    { return c.c.Origin() }
func (c legacyCall) Dialled() string           { return c.c.Dialled }
func (c legacyCall) Inbound() callctl.Leg      { return c.c.Inbound }
func (c legacyCall) Context() context.Context  { return c.c.Context() }
func (c legacyCall) SetTenant(string, string)  {}
func (c legacyCall) SetCallee(p callctl.Party) { c.c.SetCallee(p.Number) }

func (c legacyCall) Bridge(a, b callctl.Leg, opts callctl.BridgeOptions) (callctl.Bridge, error) {
	return c.c.Bridge(a, b, opts)
}

func (c legacyCall) Dial(ctx context.Context, spec callctl.DialSpec) callctl.Dialing {
	return &legacyDialing{call: c.c, spec: spec}
}

// legacyDialing runs the whole dial in Wait: the b2bua's Dial blocks.
type legacyDialing struct {
	call *b2bua.Call
	spec callctl.DialSpec
}

func (d *legacyDialing) Add(callctl.Destination) error { return errNotAdapted }
func (d *legacyDialing) PickUp(callctl.Leg) error      { return errNotAdapted }
func (d *legacyDialing) Cancel(callctl.Cause)          {}

func (d *legacyDialing) Wait(ctx context.Context) (callctl.DialResult, error) {
	dests := d.spec.Destinations
	switch {
	case len(dests) == 0:
		return callctl.DialResult{}, &callctl.DialError{Cause: callctl.CauseUnavailable, Status: 480}
	case len(dests) == 1:
		return d.dialOne(ctx, 0)
	case d.spec.Strategy == callctl.Sequential:
		// One destination after the other, each for its own time; a
		// StopOn status ends the hunt.
		var last error
		for i := range dests {
			res, err := d.dialOne(ctx, i)
			if err == nil {
				return res, nil
			}
			last = err
			var de *callctl.DialError
			if callctl.CauseOf(err) == callctl.CauseCancelled || ctx.Err() != nil ||
				(errors.As(err, &de) && d.spec.StopOn != nil && d.spec.StopOn(de.Status)) {
				return callctl.DialResult{}, err
			}
		}
		return callctl.DialResult{}, last
	}
	return d.dialTogether(ctx)
}

// dialTogether rings every destination at once, each as its own b2bua
// dial (its own callee); the first to answer wins, the others are
// cancelled (and a second answer racing the first is hung up).
func (d *legacyDialing) dialTogether(ctx context.Context) (callctl.DialResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		res callctl.DialResult
		err error
	}
	n := len(d.spec.Destinations)
	results := make(chan result, n)
	for i := range n {
		go func() {
			res, err := d.dialOne(ctx, i)
			results <- result{res, err}
		}()
	}
	var won *callctl.DialResult
	var failed error
	for range n {
		r := <-results
		switch {
		case r.err == nil && won == nil:
			won = &r.res
			cancel()
		case r.err == nil:
			r.res.Leg.Hangup(callctl.CauseAnsweredElsewhere)
		case failed == nil || rankCause(callctl.CauseOf(r.err)) > rankCause(callctl.CauseOf(failed)):
			failed = r.err
		}
	}
	if won != nil {
		return *won, nil
	}
	return callctl.DialResult{}, failed
}

// rankCause: busy says more than no answer, which says more than the rest.
func rankCause(c callctl.Cause) int {
	switch c {
	case callctl.CauseCancelled:
		return 3
	case callctl.CauseBusy:
		return 2
	case callctl.CauseNoAnswer:
		return 1
	}
	return 0
}

// dialOne rings destination i with the b2bua's dial.
func (d *legacyDialing) dialOne(ctx context.Context, i int) (callctl.DialResult, error) {
	dest := d.spec.Destinations[i]
	targets := make([]b2bua.Target, 0, len(dest.Targets))
	for _, t := range dest.Targets {
		targets = append(targets, b2bua.Target{Contact: t.URI, Source: t.Via, Transport: t.Transport, SRTP: t.SRTP, Label: t.DeviceID})
	}
	timeout := dest.Timeout
	if timeout <= 0 {
		timeout = d.spec.Timeout
	}
	opts := b2bua.DialOptions{Strategy: b2bua.Parallel, Timeout: timeout, CallerID: dest.CallerID, Callee: dest.Callee}
	if d.spec.Caller != nil {
		l, ok := d.spec.Caller.(*b2bua.Leg)
		if !ok {
			return callctl.DialResult{}, errNotAdapted
		}
		opts.Caller = l
	}
	leg, err := d.call.Dial(ctx, targets, opts)
	if err != nil {
		var de *b2bua.DialError
		if errors.As(err, &de) {
			return callctl.DialResult{}, &callctl.DialError{Cause: de.Cause, Status: de.Status}
		}
		return callctl.DialResult{}, err
	}
	return callctl.DialResult{Leg: leg, Destination: i, Tag: dest.Tag}, nil
}

type legacyTransfer struct{ *b2bua.Transfer }

var _ callctl.Transfer = legacyTransfer{}

func (t legacyTransfer) Call() callctl.Call { return legacyCall{t.Transfer.Call()} }
