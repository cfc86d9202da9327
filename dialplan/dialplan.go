// Package dialplan owns call routing: it turns what a caller dialled into
// a destination (today the extensions of the tenant's full licences),
// applies the callee's policies (do-not-disturb, unconditional, busy and
// no-answer forwarding) and drives the call with the b2bua's primitives:
// dial the callee's registered devices in parallel, answer, bridge, and
// reject with the right cause when nobody is reached.
package dialplan

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"pbx/callctl"
	"pbx/sip/b2bua"
	"pbx/store"
)

// Store is what routing reads.
type Store interface {
	UserByExtension(ctx context.Context, tenantID, ext string) (store.User, error)
}

// Locator returns the live bindings of a licence (the registrar).
type Locator interface {
	Lookup(ctx context.Context, userID string) ([]store.Binding, error)
}

// Dialer rings a destination's devices on behalf of a call; *b2bua.Call
// is the one used in production, tests put a fake in its place.
type Dialer interface {
	DialTargets(ctx context.Context, targets []b2bua.Target, opts b2bua.DialOptions) (*b2bua.Leg, error)
}

var _ Dialer = (*b2bua.Call)(nil)

// Plan is the dialplan; it implements b2bua.Router.
type Plan struct {
	Store   Store
	Locator Locator
	// RingTimeout is how long a callee without no-answer forwarding rings
	// (default 60 s).
	RingTimeout time.Duration
	// MaxForwards bounds chains of forwarding (default 5).
	MaxForwards int
	Logger      *slog.Logger
}

var _ b2bua.Router = (*Plan)(nil)

func (p *Plan) log() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.Default()
}

// Route connects the caller to the dialled extension.
func (p *Plan) Route(ctx context.Context, c callctl.Call) {
	call := c.(*b2bua.Call)
	in, o := call.Inbound(), call.Origin()
	// The device that dials never rings itself: calling one's own
	// extension rings one's other devices.
	leg, callee, cause := p.reach(ctx, call, tenantOf(call), call.Dialled(), nil, o.DeviceID, 0)
	if leg == nil {
		in.Hangup(cause)
		return
	}
	if callee != "" && callee != call.Dialled() {
		call.SetCallee(b2bua.Party{Number: callee})
	}
	if err := in.Answer(ctx); err != nil {
		leg.Hangup(b2bua.CauseNormal)
		return
	}
	br, err := call.Bridge(in, leg, callctl.BridgeOptions{})
	if err != nil {
		in.Hangup(b2bua.CauseNormal)
		leg.Hangup(b2bua.CauseNormal)
		return
	}
	select {
	case <-br.Done():
	case <-ctx.Done():
	}
}

// BlindTransfer dials the REFER target on behalf of the transferee.
func (p *Plan) BlindTransfer(ctx context.Context, t callctl.Transfer) {
	transferee := t.Transferee().(*b2bua.Leg)
	caller := transferee.Remote()
	call := t.Call().(*b2bua.Call)
	leg, _, cause := p.reach(ctx, call, tenantOf(call), t.Target(), &b2bua.DialOptions{Caller: transferee, CallerID: &caller}, "", 0)
	if leg == nil {
		t.Fail(cause)
		return
	}
	if err := t.Complete(leg); err != nil {
		p.log().Info("transfer not completed", "error", err)
	}
}

// tenantOf is the tenant the call belongs to, as the dialplan reads it.
func tenantOf(call *b2bua.Call) store.Tenant {
	o := call.Origin()
	return store.Tenant{ID: o.TenantID, Domain: o.Domain}
}

// reach finds the destination of number and dials it, following the
// callee's forwarding; the device skipDevice (the caller's own, or "") is
// not rung. It returns the answered leg and the extension that answered, or
// the cause of failure.
func (p *Plan) reach(ctx context.Context, call Dialer, tenant store.Tenant, number string, base *b2bua.DialOptions, skipDevice string, hops int) (*b2bua.Leg, string, b2bua.Cause) {
	maxHops := p.MaxForwards
	if maxHops <= 0 {
		maxHops = 5
	}
	number = strings.TrimSpace(number)
	if number == "" {
		return nil, "", b2bua.CauseNotFound
	}
	u, err := p.Store.UserByExtension(ctx, tenant.ID, number)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", b2bua.CauseNotFound
	}
	if err != nil {
		p.log().Error("dialplan: user lookup", "error", err)
		return nil, "", b2bua.CauseFailure
	}
	if u.Licence != store.LicenceFull || !u.Active(time.Now()) {
		return nil, "", b2bua.CauseUnavailable
	}
	forward := func(to string, cause b2bua.Cause) (*b2bua.Leg, string, b2bua.Cause) {
		if to == "" || to == number || hops >= maxHops {
			return nil, "", cause
		}
		return p.reach(ctx, call, tenant, to, base, skipDevice, hops+1)
	}
	if u.ForwardAlways != "" {
		return forward(u.ForwardAlways, b2bua.CauseUnavailable)
	}
	if u.DND {
		return forward(u.ForwardBusy, b2bua.CauseBusy)
	}
	bindings, err := p.Locator.Lookup(ctx, u.ID)
	if err != nil {
		p.log().Error("dialplan: bindings lookup", "error", err)
		return nil, "", b2bua.CauseFailure
	}
	if skipDevice != "" {
		// A copy: the locator's slice is not ours to change.
		bindings = slices.DeleteFunc(slices.Clone(bindings), func(b store.Binding) bool { return b.DeviceID == skipDevice })
	}
	if len(bindings) == 0 {
		return forward(u.ForwardNoAnswer, b2bua.CauseUnavailable)
	}
	opts := b2bua.DialOptions{Strategy: b2bua.Parallel, Timeout: p.RingTimeout}
	if base != nil {
		opts.Caller, opts.CallerID = base.Caller, base.CallerID
	}
	opts.Timeout = ringTimeout(u, opts.Timeout)
	opts.Callee = b2bua.Party{Name: strings.TrimSpace(u.FirstName + " " + u.LastName), Number: u.Extension, Domain: tenant.Domain, UserID: u.ID}
	leg, err := call.DialTargets(ctx, Targets(bindings), opts)
	if err == nil {
		return leg, u.Extension, ""
	}
	switch cause := b2bua.CauseOf(err); cause {
	case b2bua.CauseBusy:
		return forward(u.ForwardBusy, cause)
	case b2bua.CauseNoAnswer:
		return forward(u.ForwardNoAnswer, cause)
	default:
		return nil, "", cause
	}
}

// ringTimeout is how long u's devices ring: the licence's no-answer delay
// when it forwards on no answer, else def (60 s if not set).
func ringTimeout(u store.User, def time.Duration) time.Duration {
	if u.ForwardNoAnswer != "" && u.NoAnswerSeconds > 0 {
		return time.Duration(u.NoAnswerSeconds) * time.Second
	}
	if def <= 0 {
		return 60 * time.Second
	}
	return def
}

// Targets turns registered bindings into dial targets: requests go to the
// address and transport each device registered from, and devices on TLS
// are offered SRTP.
func Targets(bs []store.Binding) []b2bua.Target {
	out := make([]b2bua.Target, 0, len(bs))
	for _, b := range bs {
		tr := strings.ToLower(b.Transport)
		out = append(out, b2bua.Target{Contact: b.Contact, Source: b.Source, Transport: tr, SRTP: tr == "tls", Label: b.DeviceID})
	}
	return out
}
