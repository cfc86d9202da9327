package b2bua

import (
	"context"
	"time"

	"pbx/callctl"
)

// Dialling, in four files: dial.go holds the types and the entry points,
// dialing.go the state of a dial under way and its strategies,
// dial_attempt.go one INVITE to one target, earlymedia.go the relay of a
// destination's early media to the waiting caller.

// Strategy is how Dial rings several targets.
type Strategy int

const (
	// Parallel rings every target at once (forking); the first to answer
	// wins and the others are cancelled.
	Parallel Strategy = iota
	// Linear rings the targets one after the other.
	Linear
)

// Target is one contact to ring: a registered binding of a device.
type Target struct {
	Contact   string // Request-URI: the Contact the device registered
	Source    string // host:port the device registered from; requests go there (NAT)
	Transport string // udp, tcp or tls: the flow the device registered on
	SRTP      bool   // offer RTP/SAVP with SDES keys (devices registered over TLS)
	Label     string // for logs (device id)
}

// callctl is the target as the call-control interface describes it.
func (t Target) callctl() callctl.Target {
	return callctl.Target{URI: t.Contact, Via: t.Source, Transport: t.Transport, SRTP: t.SRTP, DeviceID: t.Label}
}

// DialOptions tune Dial.
type DialOptions struct {
	Strategy Strategy
	// Timeout is the ring time: for all targets together with Parallel,
	// for each target with Linear. Default 60 s.
	Timeout time.Duration
	// CallerID is presented in From and P-Asserted-Identity; default the
	// call's caller.
	CallerID *Party
	// Callee is put in To.
	Callee Party
	// Caller is the leg waiting for this dial: ringing is signalled to it
	// and dialling stops if it hangs up. Default the call's inbound leg.
	Caller *Leg
}

// DialError is why a dial reached nobody.
type DialError = callctl.DialError

// CauseOf extracts the cause of a dial error (CauseFailure for others).
func CauseOf(err error) Cause { return callctl.CauseOf(err) }

// DialTargets rings targets and returns the answered leg, which belongs to
// the call. On failure the error is a *DialError. It is Dial with one
// destination (Parallel) or one destination per target (Linear, which
// moves on after every failure).
func (c *Call) DialTargets(ctx context.Context, targets []Target, opts DialOptions) (*Leg, error) {
	spec := callctl.DialSpec{Timeout: opts.Timeout}
	if opts.Caller != nil {
		spec.Caller = opts.Caller
	}
	dest := func(ts ...Target) callctl.Destination {
		d := callctl.Destination{Callee: opts.Callee, CallerID: opts.CallerID}
		for _, t := range ts {
			d.Targets = append(d.Targets, t.callctl())
		}
		return d
	}
	if opts.Strategy == Linear {
		spec.Strategy = callctl.Sequential
		if spec.Timeout <= 0 {
			spec.Timeout = 60 * time.Second
		}
		for _, t := range targets {
			spec.Destinations = append(spec.Destinations, dest(t))
		}
	} else if len(targets) > 0 {
		spec.Destinations = []callctl.Destination{dest(targets...)}
	}
	r, err := c.dial(ctx, spec).Wait(ctx)
	if err != nil {
		return nil, err
	}
	return r.Leg.(*Leg), nil
}

// Dial starts ringing spec's destinations and returns a handle on the dial
// at once; its Wait says who answered. The answered leg belongs to the
// call. spec.Caller, when set, must be a leg of this node.
func (c *Call) Dial(ctx context.Context, spec callctl.DialSpec) callctl.Dialing {
	return c.dial(ctx, spec)
}

func (c *Call) dial(ctx context.Context, spec callctl.DialSpec) *Dialing {
	var caller *Leg
	if spec.Caller != nil {
		caller, _ = spec.Caller.(*Leg)
	} else {
		caller = c.inbound
	}
	d := newDialing(c, ctx, spec, caller)
	if spec.Caller != nil && caller == nil {
		d.cancel(cancelled{CauseFailure}) // a caller of another node
	}
	c.svc.spawn(d.run)
	return d
}
