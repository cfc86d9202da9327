package main

// TEMPORARY: this file adapts today's *b2bua.Call, *b2bua.Leg, *b2bua.Bridge
// and *b2bua.Transfer to the callctl interfaces that the dialplan is
// written against, until the b2bua implements callctl itself; then it is
// deleted and the b2bua calls the dialplan directly. Only what the
// dialplan uses is adapted (one destination per dial, bridging, answer,
// hang-up, transfer); every other primitive fails with errNotAdapted.

import (
	"context"
	"errors"
	"io"
	"time"

	"pbx/callctl"
	"pbx/media"
	"pbx/sip/b2bua"
)

var errNotAdapted = errors.New("pbx: primitive not available through the b2bua adapter yet")

type legacyCall struct{ c *b2bua.Call }

func (c legacyCall) ID() string                { return c.c.Inbound.CallID() }
func (c legacyCall) Origin() callctl.Origin    { return c.c.Origin() }
func (c legacyCall) Dialled() string           { return c.c.Dialled }
func (c legacyCall) Inbound() callctl.Leg      { return legacyLeg{c.c.Inbound} }
func (c legacyCall) Context() context.Context  { return c.c.Context() }
func (c legacyCall) SetTenant(string, string)  {}
func (c legacyCall) SetCallee(p callctl.Party) { c.c.SetCallee(p.Number) }

func (c legacyCall) Dial(ctx context.Context, spec callctl.DialSpec) callctl.Dialing {
	return &legacyDialing{call: c.c, spec: spec}
}

func (c legacyCall) Bridge(a, b callctl.Leg, opts callctl.BridgeOptions) (callctl.Bridge, error) {
	if opts.KeepRemaining {
		return nil, errNotAdapted
	}
	br, err := c.c.Bridge(unwrapLeg(a), unwrapLeg(b))
	if err != nil {
		return nil, err
	}
	return legacyBridge{br}, nil
}

func unwrapLeg(l callctl.Leg) *b2bua.Leg {
	if ll, ok := l.(legacyLeg); ok {
		return ll.l
	}
	return nil
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
	leg, err := d.call.Dial(ctx, targets, b2bua.DialOptions{Strategy: b2bua.Parallel, Timeout: timeout, CallerID: dest.CallerID,
		Callee: dest.Callee, Caller: unwrapLeg(d.spec.Caller)})
	if err != nil {
		var de *b2bua.DialError
		if errors.As(err, &de) {
			return callctl.DialResult{}, &callctl.DialError{Cause: de.Cause, Status: de.Status}
		}
		return callctl.DialResult{}, err
	}
	return callctl.DialResult{Leg: legacyLeg{leg}, Tag: dest.Tag}, nil
}

type legacyLeg struct{ l *b2bua.Leg }

func (l legacyLeg) ID() string                   { return l.l.CallID() }
func (l legacyLeg) Inbound() bool                { return l.l.Inbound() }
func (l legacyLeg) Remote() callctl.Party        { return l.l.Remote() }
func (l legacyLeg) Secure() bool                 { return l.l.Secure() }
func (l legacyLeg) AnsweredAt() time.Time        { return l.l.AnsweredAt() }
func (l legacyLeg) Done() <-chan struct{}        { return l.l.Done() }
func (l legacyLeg) Cause() callctl.Cause         { return l.l.Cause() }
func (l legacyLeg) Events() <-chan callctl.Event { return nil }
func (l legacyLeg) Ring()                        { l.l.Ring() }
func (l legacyLeg) Progress(context.Context) error {
	return errNotAdapted
}
func (l legacyLeg) Answer(ctx context.Context) error { return l.l.Answer(ctx) }
func (l legacyLeg) Hangup(cause callctl.Cause)       { l.l.Hangup(cause) }
func (l legacyLeg) Play(context.Context, ...media.Source) error {
	return errNotAdapted
}
func (l legacyLeg) Prompt(context.Context, callctl.PromptSpec) (callctl.PromptResult, error) {
	return callctl.PromptResult{}, errNotAdapted
}
func (l legacyLeg) StartMusic(string) error                { return errNotAdapted }
func (l legacyLeg) StopMusic()                             {}
func (l legacyLeg) SendDTMF(context.Context, string) error { return errNotAdapted }
func (l legacyLeg) Record(context.Context, io.WriteSeeker, callctl.RecordSpec) (callctl.RecordResult, error) {
	return callctl.RecordResult{}, errNotAdapted
}

func (l legacyLeg) State() callctl.LegState {
	select {
	case <-l.l.Done():
		return callctl.LegEnded
	default:
	}
	if l.l.Answered() {
		return callctl.LegAnswered
	}
	return callctl.LegNew
}

type legacyBridge struct{ br *b2bua.Bridge }

func (b legacyBridge) Legs() (callctl.Leg, callctl.Leg) {
	x, y := b.br.Legs()
	return legacyLeg{x}, legacyLeg{y}
}
func (b legacyBridge) Done() <-chan struct{} { return b.br.Done() }
func (b legacyBridge) Unbridge()             { b.br.Unbridge() }
func (b legacyBridge) Replace(callctl.Leg, callctl.Leg) error {
	return errNotAdapted
}
func (b legacyBridge) Record(context.Context, io.WriteSeeker, callctl.RecordSpec) (callctl.Recording, error) {
	return nil, errNotAdapted
}

func (b legacyBridge) Wait(ctx context.Context) (callctl.Leg, error) {
	select {
	case <-b.br.Done():
		return nil, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type legacyTransfer struct{ t *b2bua.Transfer }

func (t legacyTransfer) Call() callctl.Call      { return legacyCall{t.t.Call} }
func (t legacyTransfer) Transferor() callctl.Leg { return legacyLeg{t.t.Transferor} }
func (t legacyTransfer) Transferee() callctl.Leg { return legacyLeg{t.t.Transferee} }
func (t legacyTransfer) Target() string          { return t.t.Target }
func (t legacyTransfer) Complete(leg callctl.Leg) error {
	return t.t.Complete(unwrapLeg(leg))
}
func (t legacyTransfer) Fail(cause callctl.Cause) { t.t.Fail(cause) }
