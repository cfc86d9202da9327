package dialplan

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"pbx/callctl"
	"pbx/numbering"
	"pbx/store"
)

// DefaultTrunkResponseTimeout is how long a trunk may stay silent (not
// even 100 Trying) before a call fails over to the next trunk of its
// route, when Plan.TrunkResponseTimeout is not set.
const DefaultTrunkResponseTimeout = 5 * time.Second

// routeTrunks returns the trunks, in the order they are tried, of the
// outbound route for e164 (an E.164 number, or a Belgian short number's
// routing key, see routingKey): the route with the longest prefix of
// e164, the lowest priority among equals, else the default route
// (prefix ""). ErrNotFound when no route matches or its trunks are gone.
func (p *Plan) routeTrunks(ctx context.Context, e164 string) ([]store.Trunk, error) {
	if p.Routes == nil {
		return nil, store.ErrNotFound
	}
	routes, err := p.Routes.OutboundRoutes(ctx)
	if err != nil {
		return nil, err
	}
	// OutboundRoutes is ordered longest prefix first, then by priority:
	// the first match is the route.
	for _, r := range routes {
		if !strings.HasPrefix(e164, r.Prefix) {
			continue
		}
		out := make([]store.Trunk, 0, len(r.Trunks))
		for _, id := range r.Trunks {
			t, err := p.Routes.Trunk(ctx, id)
			if errors.Is(err, store.ErrNotFound) {
				continue // removed since: the route's others remain
			}
			if err != nil {
				return nil, err
			}
			out = append(out, t)
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("route %q has no trunk left: %w", r.Prefix, store.ErrNotFound)
		}
		return out, nil
	}
	return nil, fmt.Errorf("no outbound route for %s: %w", e164, store.ErrNotFound)
}

// externalTargets makes one dial destination per trunk, in order, for a
// Sequential dial with StopOn callctl.TrunkFailover: number (E.164, or a
// short number as dialled) at each trunk's host, with its credentials,
// headers (P-Asserted-Identity, Privacy, Diversion, Geolocation ...)
// and body parts beside the SDP (a PIDF-LO), and the trunk response
// timeout after which a silent trunk is passed over. The callee is
// number; each destination's Tag is its trunk's id. The caller sets
// CallerID on the destinations when it presents someone else than the
// call's caller.
func (p *Plan) externalTargets(ctx context.Context, trunks []store.Trunk, number string, headers []callctl.Header, parts []callctl.BodyPart) ([]callctl.Destination, error) {
	timeout := p.TrunkResponseTimeout
	if timeout <= 0 {
		timeout = DefaultTrunkResponseTimeout
	}
	out := make([]callctl.Destination, 0, len(trunks))
	for _, tr := range trunks {
		t, err := p.trunkTarget(ctx, tr, number)
		if err != nil {
			return nil, fmt.Errorf("trunk %s: %w", tr.ID, err)
		}
		// Copies: callers add per-trunk headers to each destination.
		t.Headers = slices.Clone(headers)
		t.Parts = slices.Clone(parts)
		t.ResponseTimeout = timeout
		if tr.ResponseTimeout > 0 {
			t.ResponseTimeout = tr.ResponseTimeout
		}
		out = append(out, callctl.Destination{Targets: []callctl.Target{t}, Callee: callctl.Party{Number: number}, Tag: tr.ID})
	}
	return out, nil
}

// external dials a public number on behalf of the reacher's call: what
// the user dialled is read in the Belgian numbering plan, barring is
// applied for whoever pays for the call, the caller id is chosen (see
// identity), and the route's trunks are tried in order, failing over on
// 5xx, 408 or a silent trunk.
func (r reacher) external(ctx context.Context, number string) (callctl.Leg, callctl.Party, callctl.Cause) {
	p := r.plan
	if p.Routes == nil {
		return nil, callctl.Party{}, callctl.CauseNotFound
	}
	d, err := numbering.ParseDialled(number)
	if err != nil {
		return nil, callctl.Party{}, callctl.CauseNotFound
	}
	log := p.log().With("call_id", r.call.ID(), "tenant_id", r.tenantID, "number", d.Number)
	payer, err := r.payer(ctx)
	if err != nil {
		log.Error("outbound: caller's licence", "error", err)
		return nil, callctl.Party{}, callctl.CauseFailure
	}
	tc, err := p.Routes.TenantCalling(ctx, r.tenantID)
	if err != nil {
		log.Error("outbound: tenant's calling rules", "error", err)
		return nil, callctl.Party{}, callctl.CauseFailure
	}
	if !r.billingAllowsPublic(ctx, payer) {
		return nil, callctl.Party{}, callctl.CauseForbidden
	}
	if rule := barredBy(tc, payer, d); rule != "" {
		log.Info("outbound: call barred", "rule", rule, "user_id", payer.ID, "class", string(d.Class))
		r.refuse(ctx, r.language(ctx, payer), PromptBarred)
		return nil, callctl.Party{}, callctl.CauseForbidden
	}
	trunks, err := p.routeTrunks(ctx, d.Key)
	if o := r.call.Origin(); errors.Is(err, store.ErrNotFound) && o.Kind == callctl.OriginTrunk {
		// No route: a carrier's call goes back out the way it came.
		var tr store.Trunk
		if tr, err = p.outboundTrunk(ctx, o); err == nil {
			trunks = []store.Trunk{tr}
		}
	}
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			log.Warn("outbound: no route", "error", err)
			return nil, callctl.Party{}, callctl.CauseNotFound
		}
		log.Error("outbound: routes", "error", err)
		return nil, callctl.Party{}, callctl.CauseFailure
	}
	dests, err := p.externalTargets(ctx, trunks, d.Number, nil, nil)
	if err != nil {
		log.Error("outbound: trunk credentials", "error", err)
		return nil, callctl.Party{}, callctl.CauseFailure
	}
	id, err := r.identity(ctx, tc, payer)
	if err != nil {
		log.Error("outbound: caller id", "error", err)
		return nil, callctl.Party{}, callctl.CauseFailure
	}
	for i := range dests {
		cid, hs := id.forTrunk(trunks[i])
		dests[i].CallerID = cid
		dests[i].Targets[0].Headers = append(dests[i].Targets[0].Headers, hs...)
	}
	sess, cause := r.admitCredit(ctx, payer, d.Key, log)
	if cause != "" {
		return nil, callctl.Party{}, cause
	}
	callee := callctl.Party{Number: d.Number}
	spec := callctl.DialSpec{
		Destinations: dests,
		Strategy:     callctl.Sequential,
		Timeout:      ringTimeout(store.User{}, p.RingTimeout),
		EarlyMedia:   true,
		StopOn:       callctl.TrunkFailover,
		Caller:       r.caller,
	}
	dialing := r.call.Dial(ctx, spec)
	res, err := dialing.Wait(ctx)
	if err == nil {
		log.Info("outbound: answered", "trunk_id", res.Tag)
		return res.Leg, callee, ""
	}
	if sess != nil {
		sess.Forget() // not connected: nothing to meter
	}
	if ctx.Err() != nil {
		dialing.Cancel(callctl.CauseCancelled)
		wctx, cancel := context.WithTimeout(context.Background(), dialDrainTimeout)
		if res, err := dialing.Wait(wctx); err == nil {
			res.Leg.Hangup(callctl.CauseNormal)
		}
		cancel()
		return nil, callctl.Party{}, callctl.CauseCancelled
	}
	log.Info("outbound: not reached", "error", err)
	return nil, callctl.Party{}, callctl.CauseOf(err)
}

// payer is the licence a call to the public network is placed for: the
// user whose forwarding leads there, else the calling device's user; the
// zero User for a carrier's call sent back out by a number's destination
// (only the tenant's rules apply then).
func (r reacher) payer(ctx context.Context) (store.User, error) {
	if r.forwardedBy != nil {
		return r.forwardedBy.user, nil
	}
	o := r.call.Origin()
	if o.Kind != callctl.OriginDevice || o.UserID == "" {
		return store.User{}, nil
	}
	return r.plan.Store.User(ctx, r.tenantID, o.UserID)
}

// CLIRPrefix before a number withholds the caller's number on that call.
const CLIRPrefix = "*31*"
