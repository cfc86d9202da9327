package dialplan

import (
	"context"
	"errors"

	"pbx/callctl"
	"pbx/features/huntgroup"
	"pbx/numbering"
	"pbx/store"
	"time"
)

// PublicCall is a call to the public network that the platform places for
// a tenant on an originated call (an outbound campaign's): it passes the
// same billing state, barring, outbound routes and caller id rules as a
// user's call, with the tenant's rules alone (no licence pays for it).
type PublicCall struct {
	TenantID string
	// Number is what to dial, in any form ParseDialled reads.
	Number string
	// CallerID is the tenant's number presented (E.164); empty presents
	// the tenant's main number, and none at all withholds.
	CallerID string
	// RingTimeout bounds the ringing (default Plan.RingTimeout).
	RingTimeout time.Duration
}

// DialPublic dials pc on call, an originated call, and returns the
// answered leg, or the cause it failed with: forbidden when the
// tenant's billing state or barring refuses it (and for an emergency
// number, which only a person may call), unallocated_number when the
// number cannot be read or no route carries it, else the carrier's.
func (p *Plan) DialPublic(ctx context.Context, call callctl.Call, pc PublicCall) (callctl.Leg, callctl.Cause) {
	log := p.log().With("call_id", call.ID(), "tenant_id", pc.TenantID, "origin", "originate")
	if p.Routes == nil {
		return nil, callctl.CauseNotFound
	}
	if p.emergencyClass(pc.Number) != NotEmergency {
		log.Warn("public call: an emergency number is not dialled for a program")
		return nil, callctl.CauseForbidden
	}
	d, err := numbering.ParseDialled(pc.Number)
	if err != nil {
		return nil, callctl.CauseNotFound
	}
	t, err := p.Store.Tenant(ctx, pc.TenantID)
	if err != nil {
		return nil, p.lookupFailed(log, "tenant", err)
	}
	if t.BillingState == BillingRestricted || emergencyOnly(t.BillingState) {
		log.Info("public call refused by the billing state", "billing_state", t.BillingState)
		return nil, callctl.CauseForbidden
	}
	tc, err := p.Routes.TenantCalling(ctx, pc.TenantID)
	if err != nil {
		log.Error("public call: tenant's calling rules", "error", err)
		return nil, callctl.CauseFailure
	}
	if rule := barredBy(tc, store.User{}, d); rule != "" {
		log.Info("public call barred", "rule", rule, "class", string(d.Class))
		return nil, callctl.CauseForbidden
	}
	trunks, err := p.routeTrunks(ctx, d.Key)
	if errors.Is(err, store.ErrNotFound) {
		log.Warn("public call: no route", "error", err)
		return nil, callctl.CauseNotFound
	}
	if err != nil {
		log.Error("public call: routes", "error", err)
		return nil, callctl.CauseFailure
	}
	dests, err := p.externalTargets(ctx, trunks, d.Number, nil, nil)
	if err != nil {
		log.Error("public call: trunk credentials", "error", err)
		return nil, callctl.CauseFailure
	}
	id := outboundIdentity{domain: t.Domain, line: pc.CallerID}
	if id.line == "" {
		id.line = tc.MainNumber
	}
	for i := range dests {
		cid, hs := id.forTrunk(trunks[i])
		dests[i].CallerID = cid
		dests[i].Targets[0].Headers = append(dests[i].Targets[0].Headers, hs...)
	}
	// Credit limits and the toll-fraud guard apply as to a user's call.
	// The call is priced when its record is written; it is not cut in
	// progress (a campaign's calls are short and paced).
	var sess CreditSession
	if p.Credit != nil {
		s, refused, err := p.Credit.Admit(ctx, CreditCall{CallID: call.ID(), TenantID: pc.TenantID, Number: d.Key})
		if err != nil {
			log.Error("public call: credit check", "error", err)
			return nil, callctl.CauseFailure
		}
		if refused != "" {
			log.Info("public call refused", "reason", string(refused))
			return nil, callctl.CauseForbidden
		}
		sess = s
	}
	forget := func() {
		if sess != nil {
			sess.Forget()
		}
	}
	timeout := pc.RingTimeout
	if timeout <= 0 {
		timeout = ringTimeout(store.User{}, p.RingTimeout)
	}
	call.SetTenant(t.ID, t.Domain)
	call.SetCallee(callctl.Party{Number: d.Number})
	dialing := call.Dial(ctx, callctl.DialSpec{Destinations: dests, Strategy: callctl.Sequential, Timeout: timeout, StopOn: callctl.TrunkFailover})
	res, err := dialing.Wait(ctx)
	if err == nil {
		return res.Leg, ""
	}
	forget()
	if ctx.Err() != nil {
		dialing.Cancel(callctl.CauseCancelled)
		wctx, cancel := context.WithTimeout(context.Background(), dialDrainTimeout)
		if res, err := dialing.Wait(wctx); err == nil {
			res.Leg.Hangup(callctl.CauseNormal)
		}
		cancel()
		return nil, callctl.CauseCancelled
	}
	return nil, callctl.CauseOf(err)
}

// Agents is the hunt groups' directory for a program of the tenant's
// (a campaign's agents): the members' states and devices as the
// dialplan's own hunt groups see them. Call its methods with the
// context it returns.
func (p *Plan) Agents(ctx context.Context, tenantID, domain string) (context.Context, huntgroup.Directory) {
	return withTenant(ctx, store.Tenant{ID: tenantID, Domain: domain}), directory{p}
}
