package fake

import (
	"context"
	"sync"

	"pbx/callctl"
)

// Outcome is how a scripted destination ends a dial: Cause "" answers.
type Outcome struct {
	Cause  callctl.Cause
	Status int // the SIP final response reported with a failure
}

// Outcomes a test scripts most.
var (
	Answer      = Outcome{}
	Busy        = Outcome{Cause: callctl.CauseBusy, Status: 486}
	NoAnswer    = Outcome{Cause: callctl.CauseNoAnswer, Status: 480}
	Unavailable = Outcome{Cause: callctl.CauseUnavailable, Status: 480}
	Rejected    = Outcome{Cause: callctl.CauseRejected, Status: 603}
)

// Call is a fake callctl.Call. Destinations answer unless the test scripts
// otherwise, by Destination.Tag (Script) or for all (ScriptDefault).
type Call struct {
	id      string
	origin  callctl.Origin
	dialled string
	inbound *Leg
	ctx     context.Context
	cancel  context.CancelFunc

	mu        sync.Mutex
	outcomes  map[string]Outcome
	def       Outcome
	dials     []*Dialing
	bridges   []*Bridge
	bridged   chan struct{} // closed at the first bridge
	legs      []*Leg        // dialled legs that answered
	tenant    [2]string
	callee    callctl.Party
	calleeSet bool
}

// NewCall returns a routed call from origin to dialled; its inbound leg's
// far end is origin.Caller.
func NewCall(origin callctl.Origin, dialled string) *Call {
	c := newCall(origin, dialled)
	c.inbound = NewLeg(true, origin.Caller)
	return c
}

// NewOriginated returns a call with no inbound leg.
func NewOriginated(origin callctl.Origin, dialled string) *Call {
	origin.Kind = callctl.OriginOriginate
	return newCall(origin, dialled)
}

func newCall(origin callctl.Origin, dialled string) *Call {
	c := &Call{id: nextID("call"), origin: origin, dialled: dialled, outcomes: map[string]Outcome{}, bridged: make(chan struct{})}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c
}

var _ callctl.Call = (*Call)(nil)

func (c *Call) ID() string               { return c.id }
func (c *Call) Origin() callctl.Origin   { return c.origin }
func (c *Call) Dialled() string          { return c.dialled }
func (c *Call) Context() context.Context { return c.ctx }
func (c *Call) InboundLeg() *Leg         { return c.inbound }
func (c *Call) Inbound() callctl.Leg {
	if c.inbound == nil {
		return nil // a typed nil would not compare equal to nil
	}
	return c.inbound
}

// Script makes the destination tagged tag end its dials with o.
func (c *Call) Script(tag string, o Outcome) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.outcomes[tag] = o
}

// ScriptDefault is the outcome of destinations not scripted by tag.
func (c *Call) ScriptDefault(o Outcome) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.def = o
}

func (c *Call) outcome(d callctl.Destination) Outcome {
	if len(d.Targets) == 0 {
		return Unavailable
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if o, ok := c.outcomes[d.Tag]; ok {
		return o
	}
	return c.def
}

// Dial records spec; its Dialing resolves the scripted outcomes in Wait.
func (c *Call) Dial(ctx context.Context, spec callctl.DialSpec) callctl.Dialing {
	d := &Dialing{call: c, spec: spec, dests: append([]callctl.Destination(nil), spec.Destinations...)}
	c.mu.Lock()
	c.dials = append(c.dials, d)
	c.mu.Unlock()
	return d
}

// Bridge joins a and b (see Bridge).
func (c *Call) Bridge(a, b callctl.Leg, opts callctl.BridgeOptions) (callctl.Bridge, error) {
	br, err := newBridge(a, b, opts)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.bridges = append(c.bridges, br)
	if len(c.bridges) == 1 {
		close(c.bridged)
	}
	c.mu.Unlock()
	return br, nil
}

// WaitBridge returns the program's first bridge once it has made one, or
// nil when ctx ends first.
func (c *Call) WaitBridge(ctx context.Context) *Bridge {
	select {
	case <-c.bridged:
		return c.Bridges()[0]
	case <-ctx.Done():
		return nil
	}
}

func (c *Call) SetTenant(tenantID, domain string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tenant = [2]string{tenantID, domain}
	c.origin.TenantID, c.origin.Domain = tenantID, domain
}

func (c *Call) SetCallee(p callctl.Party) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.callee, c.calleeSet = p, true
}

// End ends the call as the b2bua does when its program returns: every leg
// still up is hung up and the context is cancelled.
func (c *Call) End() {
	c.cancel()
	c.mu.Lock()
	legs := append([]*Leg(nil), c.legs...)
	c.mu.Unlock()
	if c.inbound != nil {
		legs = append(legs, c.inbound)
	}
	for _, l := range legs {
		l.end(callctl.CauseNormal)
	}
}

// Dials are the specs the program dialled, in order, with the
// destinations Dialing.Add added.
func (c *Call) Dials() []callctl.DialSpec {
	c.mu.Lock()
	ds := append([]*Dialing(nil), c.dials...)
	c.mu.Unlock()
	out := make([]callctl.DialSpec, 0, len(ds))
	for _, d := range ds {
		d.mu.Lock()
		s := d.spec
		s.Destinations = append([]callctl.Destination(nil), d.dests...)
		d.mu.Unlock()
		out = append(out, s)
	}
	return out
}

// Bridges are the bridges the program made, in order.
func (c *Call) Bridges() []*Bridge {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Bridge(nil), c.bridges...)
}

// Answered are the dialled legs that answered, in order.
func (c *Call) Answered() []*Leg {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Leg(nil), c.legs...)
}

// Callee is what SetCallee was given, and whether it was called.
func (c *Call) Callee() (callctl.Party, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.callee, c.calleeSet
}

// Tenant is what SetTenant was given.
func (c *Call) Tenant() (tenantID, domain string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tenant[0], c.tenant[1]
}
