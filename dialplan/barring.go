package dialplan

import (
	"context"

	"pbx/callctl"
	"pbx/numbering"
	"pbx/store"
)

// System prompts of refused calls (prompts/texts.tsv).
const (
	// PromptBarred: the number dialled is barred from this line.
	PromptBarred = "call-barred"
	// PromptAnonymousRejected: the callee takes no calls from withheld
	// numbers.
	PromptAnonymousRejected = "anonymous-rejected"
)

// Barring rules, as logged.
const (
	barPremium       = "premium"
	barInternational = "international"
)

// barredBy names the rule that bars a call to d placed for user u of a
// tenant with rules tc, or "" when the call may go. Premium-rate numbers,
// Belgian and foreign, are barred unless the tenant lifted it; calls
// abroad when the tenant or the user bars them. Emergency and helpline
// numbers never come this far.
func barredBy(tc store.TenantCalling, u store.User, d numbering.Dialled) string {
	switch {
	case d.Class == numbering.Premium && tc.BarPremium:
		return barPremium
	case d.International && (tc.BarInternational || u.BarInternational):
		return barInternational
	}
	return ""
}

// refuse tells the waiting caller why its call is refused, with prompt id
// in lang, as early media (or in the call, when it is already answered);
// the caller gets the final response afterwards. Without prompts it says
// nothing.
func (r reacher) refuse(ctx context.Context, lang, id string) {
	if r.plan.Prompts == nil {
		return
	}
	src := r.plan.Prompts.Prompt(lang, id)
	if src == nil {
		return
	}
	leg := r.caller
	if leg == nil {
		leg = r.call.Inbound()
	}
	if leg == nil {
		return
	}
	switch leg.State() {
	case callctl.LegEnded:
		return
	case callctl.LegAnswered:
	default:
		if err := leg.Progress(ctx); err != nil {
			return
		}
	}
	_ = leg.Play(ctx, src)
}

// language is the language of the prompts u hears: theirs, else their
// tenant's.
func (r reacher) language(ctx context.Context, u store.User) string {
	if u.Language != "" {
		return u.Language
	}
	if t, err := r.plan.Store.Tenant(ctx, r.tenantID); err == nil {
		return t.Language
	}
	return ""
}
