// Package dialplan owns call routing: it decides what a call may do
// (policy: the caller's licence and tenant must be in service, except for
// emergency numbers), turns what a caller dialled into a destination
// (the extensions of the tenant's full licences and hunt groups; for a
// carrier's call, the tenant's public number and where it leads: a user,
// a hunt group, a call flow, voicemail or an external number), applies the
// callee's policies (do-not-disturb, unconditional, busy and no-answer
// forwarding) and drives the call with the call-control primitives of
// package callctl: dial the callee's registered devices together, answer,
// bridge, and reject with the right cause when nobody is reached.
//
// It knows no SIP: cmd/pbx wires it to the b2bua as its router, and its
// tests run against the fakes of package callctl/fake.
package dialplan

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"pbx/callctl"
	"pbx/features/callflow"
	"pbx/features/huntgroup"
	"pbx/store"
)

// Store is what routing reads.
type Store interface {
	UserByExtension(ctx context.Context, tenantID, ext string) (store.User, error)
	// User and Tenant give the caller's licence and tenant to the policy
	// step, read afresh for each call.
	User(ctx context.Context, tenantID, id string) (store.User, error)
	Tenant(ctx context.Context, id string) (store.Tenant, error)
}

// Locator returns the live bindings of a licence (the registrar).
type Locator interface {
	Lookup(ctx context.Context, userID string) ([]store.Binding, error)
}

// Plan is the dialplan; it implements callctl.Router and
// callctl.TransferRouter.
type Plan struct {
	Store   Store
	Locator Locator
	// Voicemail takes the calls that reach nobody (nil: they are
	// rejected with the cause of the failure).
	Voicemail Voicemail
	// VoicemailMenu serves the voicemail code (nil: the code is dialled
	// like any number); VoicemailCode is that code (default *98).
	VoicemailMenu VoicemailMenu
	VoicemailCode string
	// RingTimeout is how long a callee without no-answer forwarding rings
	// (default 60 s).
	RingTimeout time.Duration
	// MaxForwards bounds chains of forwarding (default 5).
	MaxForwards int
	// Now is the clock of licence suspensions and of call flows'
	// schedules (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger

	// Routes reads public numbers, hunt groups, call flows and trunks;
	// nil: no carrier call finds a number.
	Routes Routes
	// Audio opens the tenants' uploaded audio that call flows play.
	Audio callflow.Audio
	// Busy reports whether a user is in a call (hunt groups skip them).
	Busy func(userID string) bool
	// MaxDispatch bounds a chain of destinations (default
	// DefaultMaxDispatch).
	MaxDispatch int
	// HuntClock and HuntRecheck time the hunt groups' queues (defaults:
	// the real clock, 5 s).
	HuntClock huntgroup.Clock
	// Prompts say hunt-group queue positions (nil: none are announced).
	Prompts     huntgroup.Prompter
	HuntRecheck time.Duration
	// Emergency serves emergency calls (location, log, webhook); nil:
	// they are placed with neither location nor report.
	Emergency *EmergencyServices
	// TrunkResponseTimeout is how long a trunk may leave an INVITE
	// without any response before the call fails over to the route's
	// next trunk (default DefaultTrunkResponseTimeout).
	TrunkResponseTimeout time.Duration
	// Waker wakes the devices registered with push parameters when
	// their licence is called (nil: they are rung like any other);
	// PushWait is how long the call waits for each to register
	// (default DefaultPushWait) while the other devices ring.
	Waker    Waker
	PushWait time.Duration
	// Recorder records the bridged calls whose policy says so (nil: none).
	Recorder Recorder
	// Credit prices and limits calls to the public network (nil: they
	// are not metered).
	Credit Credit

	numbers numberRouting
}

var (
	_ callctl.Router         = (*Plan)(nil)
	_ callctl.TransferRouter = (*Plan)(nil)
)

func (p *Plan) log() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.Default()
}

func (p *Plan) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// Route runs policy, then connects the caller to what it dialled.
func (p *Plan) Route(ctx context.Context, call callctl.Call) {
	in := call.Inbound()
	if in == nil {
		return // an originated call runs its own program, never this one
	}
	o := call.Origin()
	number := strings.TrimSpace(call.Dialled())
	log := p.log().With("call_id", call.ID(), "origin", string(o.Kind), "dialled", number)
	if o.Kind == callctl.OriginTrunk {
		p.routeTrunk(ctx, call, number, log)
		return
	}
	// *31* withholds the caller's number for this call only.
	number, withhold := strings.CutPrefix(number, CLIRPrefix)
	if class := p.emergencyClass(number); class != NotEmergency {
		// Emergency numbers bypass the licence and billing checks: the
		// law wants them reachable from any line, free and always.
		p.emergency(ctx, call, number, class, log)
		return
	}
	if !p.admit(ctx, call, log) {
		return
	}
	if p.listen(ctx, call, number) {
		return
	}
	if p.Routes != nil {
		switch g, err := p.Routes.HuntGroupByExtension(ctx, o.TenantID, number); {
		case err == nil:
			t, err := p.Store.Tenant(ctx, o.TenantID)
			if err != nil {
				in.Hangup(p.lookupFailed(log, "tenant", err))
				return
			}
			p.toGroup(ctx, call, t, g, 0, log)
			return
		case !errors.Is(err, store.ErrNotFound):
			log.Error("dialplan: hunt group lookup", "error", err)
			in.Hangup(callctl.CauseFailure)
			return
		}
	}
	// The device that dials never rings itself: calling one's own
	// extension rings one's other devices.
	r := reacher{plan: p, call: call, tenantID: o.TenantID, domain: o.Domain, skipDevice: o.DeviceID, unreached: &unreached{}, withhold: withhold}
	leg, callee, cause := r.reach(ctx, number, 0)
	if leg == nil {
		if !p.toVoicemail(ctx, call, o.TenantID, r) {
			in.Hangup(cause)
		}
		return
	}
	if callee.Number != number {
		call.SetCallee(callee)
	}
	if err := in.Answer(ctx); err != nil {
		leg.Hangup(callctl.CauseNormal)
		return
	}
	br, err := call.Bridge(in, leg, callctl.BridgeOptions{})
	if err != nil {
		in.Hangup(callctl.CauseNormal)
		leg.Hangup(callctl.CauseNormal)
		return
	}
	p.bridged(ctx, call, br, o.TenantID, callee, "")
	p.waitBridge(ctx, call, in, leg, br, log)
}

// BlindTransfer dials the REFER target on behalf of the transferee.
func (p *Plan) BlindTransfer(ctx context.Context, t callctl.Transfer) {
	o := t.Call().Origin()
	caller := t.Transferee().Remote()
	r := reacher{plan: p, call: t.Call(), tenantID: o.TenantID, domain: o.Domain, caller: t.Transferee(), callerID: &caller}
	leg, _, cause := r.reach(ctx, strings.TrimSpace(t.Target()), 0)
	if leg == nil {
		t.Fail(cause)
		return
	}
	if err := t.Complete(leg); err != nil {
		p.log().Info("transfer not completed", "error", err)
	}
}

// dialDrainTimeout bounds the wait for a cancelled dial to end: its
// INVITE transactions end within Timer B (32 s) at worst.
const dialDrainTimeout = 40 * time.Second

// reacher reaches a number of one tenant on behalf of one call.
type reacher struct {
	plan             *Plan
	call             callctl.Call
	tenantID, domain string
	skipDevice       string         // the caller's own device, not rung
	caller           callctl.Leg    // the waiting leg; nil: the call's inbound
	callerID         *callctl.Party // presented identity; nil: the call's caller
	unreached        *unreached     // set: note the box of who was not reached
	withhold         bool           // the caller withholds its number for this call (*31*)
	forwardedBy      *forwarding    // set: following this user's forwarding
}

// reach finds the destination of number and dials it, following the
// callee's forwarding. It returns the answered leg and the callee that
// answered, or the cause of failure.
func (r reacher) reach(ctx context.Context, number string, hops int) (callctl.Leg, callctl.Party, callctl.Cause) {
	p := r.plan
	maxHops := p.MaxForwards
	if maxHops <= 0 {
		maxHops = 5
	}
	if number == "" {
		return nil, callctl.Party{}, callctl.CauseNotFound
	}
	u, err := p.Store.UserByExtension(ctx, r.tenantID, number)
	if errors.Is(err, store.ErrNotFound) {
		// Not an extension: a public number, through the outbound routes.
		return r.external(ctx, number)
	}
	if err != nil {
		p.log().Error("dialplan: user lookup", "error", err)
		return nil, callctl.Party{}, callctl.CauseFailure
	}
	if u.Licence != store.LicenceFull || !u.Active(p.now()) {
		return nil, callctl.Party{}, callctl.CauseUnavailable
	}
	if u.RejectAnonymous && r.anonymousCaller() {
		r.refuse(ctx, u.Language, PromptAnonymousRejected)
		return nil, callctl.Party{}, callctl.CauseAnonymityDisallowed
	}
	forward := func(to string, cause callctl.Cause) (callctl.Leg, callctl.Party, callctl.Cause) {
		if to == "" && r.unreached != nil {
			*r.unreached = unreached{userID: u.ID, reason: voicemailReason(cause)}
		}
		if to == "" || to == number || hops >= maxHops {
			return nil, callctl.Party{}, cause
		}
		if r.forwardedBy == nil || r.forwardedBy.user.ID != u.ID {
			r.forwardedBy = &forwarding{user: u, reason: diversionReason(cause)}
		}
		return r.reach(ctx, to, hops+1)
	}
	if u.ForwardAlways != "" {
		r.forwardedBy = &forwarding{user: u, reason: "unconditional"}
		return forward(u.ForwardAlways, callctl.CauseUnavailable)
	}
	if u.DND {
		r.forwardedBy = &forwarding{user: u, reason: "do-not-disturb"}
		return forward(u.ForwardBusy, callctl.CauseBusy)
	}
	bindings, err := p.Locator.Lookup(ctx, u.ID)
	if err != nil {
		p.log().Error("dialplan: bindings lookup", "error", err)
		return nil, callctl.Party{}, callctl.CauseFailure
	}
	if r.skipDevice != "" {
		// A copy: the locator's slice is not ours to change.
		bindings = slices.DeleteFunc(slices.Clone(bindings), func(b store.Binding) bool { return b.DeviceID == r.skipDevice })
	}
	if len(bindings) == 0 {
		return forward(u.ForwardNoAnswer, callctl.CauseUnavailable)
	}
	awake, asleep := p.asleep(bindings)
	callee := callctl.Party{Name: strings.TrimSpace(u.FirstName + " " + u.LastName), Number: u.Extension, Domain: r.domain, UserID: u.ID}
	dest := callctl.Destination{Callee: callee, CallerID: r.presented(ctx), Tag: u.ID}
	spec := callctl.DialSpec{Strategy: callctl.Simultaneous, Timeout: ringTimeout(u, p.RingTimeout), Caller: r.caller}
	if len(awake) > 0 {
		d := dest
		d.Targets = Targets(awake)
		spec.Destinations = append(spec.Destinations, d)
	}
	if len(asleep) > 0 {
		spec.Destinations = append(spec.Destinations, waitingRoom(callee, u.ID, p.pushWait(), spec.Timeout))
	}
	dialing := r.call.Dial(ctx, spec)
	stopWake := func() {}
	if len(asleep) > 0 {
		stopWake = r.wake(ctx, dialing, asleep, dest, len(awake) == 0)
	}
	res, err := dialing.Wait(ctx)
	stopWake()
	if err == nil {
		return res.Leg, callee, ""
	}
	if ctx.Err() != nil {
		// The call is over (its caller left) while the dial still runs:
		// stop it and see it end, so that a callee answering at that
		// very moment is hung up rather than left up.
		dialing.Cancel(callctl.CauseCancelled)
		wctx, cancel := context.WithTimeout(context.Background(), dialDrainTimeout)
		if res, err := dialing.Wait(wctx); err == nil {
			res.Leg.Hangup(callctl.CauseNormal)
		}
		cancel()
		return nil, callctl.Party{}, callctl.CauseCancelled
	}
	switch cause := callctl.CauseOf(err); cause {
	case callctl.CauseBusy:
		return forward(u.ForwardBusy, cause)
	case callctl.CauseNoAnswer:
		return forward(u.ForwardNoAnswer, cause)
	case callctl.CauseUnavailable:
		if len(awake) == 0 {
			// Only sleeping devices, and none woke: as if nothing
			// were registered.
			return forward(u.ForwardNoAnswer, cause)
		}
		return nil, callctl.Party{}, cause
	default:
		return nil, callctl.Party{}, cause
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
// are offered SRTP. A device registered through an edge proxy (a binding
// with a Path, RFC 3327) is reached through it: the request goes to the
// proxy it came from with the Path as its Route set, so any node sharing
// the store reaches the device on the flow it registered on.
func Targets(bs []store.Binding) []callctl.Target {
	out := make([]callctl.Target, 0, len(bs))
	for _, b := range bs {
		tr := strings.ToLower(b.Transport)
		t := callctl.Target{URI: b.Contact, Via: b.Source, Transport: tr, SRTP: tr == "tls", DeviceID: b.DeviceID}
		if b.Path != "" {
			t.RouteSet = []string{b.Path}
		}
		out = append(out, t)
	}
	return out
}
