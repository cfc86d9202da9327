package main

// TEMPORARY: this file adapts today's *b2bua.Call and *b2bua.Transfer to
// the callctl interfaces that the dialplan is written against, until the
// b2bua's Call implements callctl.Call itself (its legs and bridges
// already do); then it is deleted and the b2bua calls the dialplan
// directly. Dialling is adapted for what the dialplan uses, one
// destination per dial; the rest of a running dial's handle fails with
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
	if len(d.spec.Destinations) != 1 {
		return callctl.DialResult{}, errNotAdapted
	}
	dest := d.spec.Destinations[0]
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
	return callctl.DialResult{Leg: leg, Tag: dest.Tag}, nil
}

type legacyTransfer struct{ *b2bua.Transfer }

var _ callctl.Transfer = legacyTransfer{}

func (t legacyTransfer) Call() callctl.Call { return legacyCall{t.Transfer.Call()} }
