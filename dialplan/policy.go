package dialplan

import (
	"context"
	"errors"
	"log/slog"

	"pbx/callctl"
	"pbx/store"
)

// policy is the step every call from a device passes before any dial: the
// caller's licence must be active and its tenant not suspended. It reads
// both afresh, so a suspension applies to the next call at once. It
// returns the cause to reject the call with, "" to go on. Emergency
// numbers never reach it (see Route).
//
// The other billing states (restricted, service minimum) and barring
// will be decided here too; today they allow every call.
func (p *Plan) policy(ctx context.Context, o callctl.Origin, log *slog.Logger) callctl.Cause {
	if o.Kind != callctl.OriginDevice {
		log.Warn("policy: call of an unknown origin refused")
		return callctl.CauseForbidden
	}
	t, err := p.Store.Tenant(ctx, o.TenantID)
	if err != nil {
		return p.lookupFailed(log, "tenant", err)
	}
	if t.BillingState == "suspended" {
		log.Info("policy: tenant suspended", "tenant_id", t.ID)
		return callctl.CauseForbidden
	}
	u, err := p.Store.User(ctx, o.TenantID, o.UserID)
	if err != nil {
		return p.lookupFailed(log, "licence", err)
	}
	if !u.Active(p.now()) {
		log.Info("policy: licence not active", "user_id", u.ID, "status", u.Status)
		return callctl.CauseForbidden
	}
	return ""
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
