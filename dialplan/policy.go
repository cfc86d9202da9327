package dialplan

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"pbx/callctl"
	"pbx/store"
)

// Billing states of a tenant (store.Tenant.BillingState).
const (
	BillingActive = "active"
	// BillingRestricted (late payment, credit limit reached): calls to
	// the public network, external forwards included, are refused with an
	// announcement; internal and incoming calls work.
	BillingRestricted = "restricted"
	// BillingServiceMinimum: only emergency calls work; other calls from
	// devices are refused with an announcement, carriers' calls with 480.
	BillingServiceMinimum = "service_minimum"
	// BillingSuspended: as BillingServiceMinimum, and devices may not
	// register (the registrar's business); an authenticated INVITE to an
	// emergency number is still placed.
	BillingSuspended = "suspended"
)

// BillingStates lists the billing states.
var BillingStates = []string{BillingActive, BillingRestricted, BillingServiceMinimum, BillingSuspended}

// The prompts of calls that billing refuses.
const (
	PromptRestricted     = "billing-restricted"      // calls to the public network are not possible
	PromptServiceMinimum = "billing-service-minimum" // only emergency calls are possible
)

// emergencyOnly reports whether a billing state lets only emergency calls
// through.
func emergencyOnly(state string) bool {
	return state == BillingServiceMinimum || state == BillingSuspended
}

// refusal is why policy refuses a call: the cause it is ended with, and
// the prompt the caller hears first ("" none) in lang.
type refusal struct {
	cause        callctl.Cause
	prompt, lang string
}

// admit is the step every call from a device passes before any dial: the
// caller's licence must be active and its tenant's billing state allow
// calls. It reads both afresh, so that a change applies to the next call
// at once. It reports false when it refused the call (with an
// announcement for a billing state). Emergency numbers never reach it
// (see Route).
func (p *Plan) admit(ctx context.Context, call callctl.Call, log *slog.Logger) bool {
	r := p.policy(ctx, call.Origin(), log)
	if r.cause == "" {
		return true
	}
	p.refuse(ctx, call.Inbound(), r)
	return false
}

func (p *Plan) policy(ctx context.Context, o callctl.Origin, log *slog.Logger) refusal {
	if o.Kind != callctl.OriginDevice {
		log.Warn("policy: call of an unknown origin refused")
		return refusal{cause: callctl.CauseForbidden}
	}
	t, err := p.Store.Tenant(ctx, o.TenantID)
	if err != nil {
		return refusal{cause: p.lookupFailed(log, "tenant", err)}
	}
	u, err := p.Store.User(ctx, o.TenantID, o.UserID)
	if err != nil {
		return refusal{cause: p.lookupFailed(log, "licence", err)}
	}
	lang := u.Language
	if lang == "" {
		lang = t.Language
	}
	if emergencyOnly(t.BillingState) {
		log.Info("policy: tenant limited to emergency calls", "tenant_id", t.ID, "billing_state", t.BillingState)
		return refusal{cause: callctl.CauseForbidden, prompt: PromptServiceMinimum, lang: lang}
	}
	if !u.Active(p.now()) {
		log.Info("policy: licence not active", "user_id", u.ID, "status", u.Status)
		return refusal{cause: callctl.CauseForbidden}
	}
	return refusal{}
}

// billingAllowsPublic is the billing step of a call about to leave for
// the public network (an outside number dialled, a forward to one, a
// public number leading to one): a restricted tenant's is refused with an
// announcement in payer's language, as is any call of a tenant limited to
// emergency calls. It reads the tenant afresh and reports false when it
// refused the call.
func (r reacher) billingAllowsPublic(ctx context.Context, payer store.User) bool {
	t, err := r.plan.Store.Tenant(ctx, r.tenantID)
	if err != nil {
		r.plan.log().Error("policy: the tenant of a call to the public network", "tenant_id", r.tenantID, "error", err)
		return false
	}
	prompt := PromptRestricted
	switch {
	case t.BillingState == BillingRestricted:
	case emergencyOnly(t.BillingState):
		prompt = PromptServiceMinimum
	default:
		return true
	}
	r.plan.log().Info("policy: call to the public network refused", "call_id", r.call.ID(), "tenant_id", t.ID, "billing_state", t.BillingState)
	r.refuse(ctx, r.language(ctx, payer), prompt)
	return false
}

// acceptsIncoming is the billing step of a carrier's call to tenant t: a
// tenant limited to emergency calls takes none (480). It reports false
// when it refused the call.
func (p *Plan) acceptsIncoming(call callctl.Call, t store.Tenant, log *slog.Logger) bool {
	if !emergencyOnly(t.BillingState) {
		return true
	}
	log.Info("policy: incoming call refused, tenant limited to emergency calls", "billing_state", t.BillingState)
	call.Inbound().Hangup(callctl.CauseUnavailable)
	return false
}

// refusePromptTime bounds an announcement of refusal.
const refusePromptTime = 30 * time.Second

// refuse ends an unanswered inbound leg with r.cause, after playing
// r.prompt as early media (183): the caller hears why, and no call is
// answered, so none is charged.
func (p *Plan) refuse(ctx context.Context, in callctl.Leg, r refusal) {
	if r.prompt != "" && p.Prompts != nil {
		if src := p.Prompts.Prompt(r.lang, r.prompt); src != nil {
			pctx, cancel := context.WithTimeout(ctx, refusePromptTime)
			if err := in.Progress(pctx); err == nil {
				_ = in.Play(pctx, src)
			}
			cancel()
		}
	}
	in.Hangup(r.cause)
}

// lookupFailed is the cause of a caller whose licence or tenant cannot be
// read: gone since it authenticated (forbidden), or a store failure.
func (p *Plan) lookupFailed(log *slog.Logger, what string, err error) callctl.Cause {
	if errors.Is(err, store.ErrNotFound) {
		log.Info("policy: caller's " + what + " not found")
		return callctl.CauseForbidden
	}
	log.Error("policy: "+what+" lookup", "error", err)
	return callctl.CauseFailure
}
