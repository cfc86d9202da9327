package dialplan

import (
	"context"

	"pbx/callctl"
	"pbx/features/recording"
)

// Recorder is told of each bridge the dialplan makes between a caller and
// whom it reached (a user, an outside number, a hunt group's member) and
// records the call if a policy says so (features/recording). It returns
// at once; a call it does not record costs nothing more.
type Recorder interface {
	Bridged(ctx context.Context, call callctl.Call, br callctl.Bridge, b recording.Bridged)
}

type numberKey struct{}

// withNumber carries the public number a carrier's call came in on to the
// bridge it ends in, for that number's recording policy.
func withNumber(ctx context.Context, numberID string) context.Context {
	return context.WithValue(ctx, numberKey{}, numberID)
}

// bridged tells the Recorder of a bridge of the call's caller with callee.
func (p *Plan) bridged(ctx context.Context, call callctl.Call, br callctl.Bridge, tenantID string, callee callctl.Party, groupID string) {
	if p.Recorder == nil {
		return
	}
	o := call.Origin()
	caller := o.Caller
	if in := call.Inbound(); in != nil && caller.Number == "" {
		caller = in.Remote()
	}
	if o.Kind == callctl.OriginDevice {
		caller.UserID = o.UserID
	}
	number, _ := ctx.Value(numberKey{}).(string)
	p.Recorder.Bridged(ctx, call, br, recording.Bridged{TenantID: tenantID, Caller: caller, Callee: callee, NumberID: number, HuntGroupID: groupID})
}

// groupBridged is the hunt groups' hook: a member answered and was
// bridged with the caller.
func (p *Plan) groupBridged(ctx context.Context, call callctl.Call, br callctl.Bridge, groupID string, member callctl.Party) {
	tenantID, _ := ctx.Value(tenantKey{}).(string)
	p.bridged(ctx, call, br, tenantID, member, groupID)
}
