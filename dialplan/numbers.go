package dialplan

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"pbx/callctl"
	"pbx/features/callflow"
	"pbx/features/huntgroup"
	"pbx/numbering"
	"pbx/store"
)

// Routes is what routing by public number reads and records: numbers,
// hunt groups and their members' idle times, call flows, and the trunks
// external destinations leave through.
type Routes interface {
	NumberByE164(ctx context.Context, e164 string) (store.Number, error)
	HuntGroup(ctx context.Context, tenantID, id string) (store.HuntGroup, error)
	HuntGroupByExtension(ctx context.Context, tenantID, ext string) (store.HuntGroup, error)
	HuntGroupAnswered(ctx context.Context, groupID, userID string) error
	UsersLastCallEnded(ctx context.Context, userIDs []string) (map[string]time.Time, error)
	UserCallEnded(ctx context.Context, userID string, at time.Time) error
	// CallFlow is the flow's current version.
	CallFlow(ctx context.Context, tenantID, id string) (store.CallFlow, error)
	Trunk(ctx context.Context, id string) (store.Trunk, error)
	Trunks(ctx context.Context) ([]store.Trunk, error)
	TrunkPassword(ctx context.Context, id string) (string, error)
	// OutboundRoutes lists the routes to public numbers, longest prefix
	// first, then by priority (see store.Store.OutboundRoutes).
	OutboundRoutes(ctx context.Context) ([]store.OutboundRoute, error)
	// UserCallerID is the number a user chose to present (ErrNotFound:
	// none); TenantCalling, the tenant's main number and barring.
	UserCallerID(ctx context.Context, tenantID, userID string) (store.Number, error)
	TenantCalling(ctx context.Context, tenantID string) (store.TenantCalling, error)
}

// DefaultMaxDispatch bounds a chain of destinations (a group's overflow to
// a flow leading to another group ...) when Plan.MaxDispatch is not set.
const DefaultMaxDispatch = 8

// numberRouting is the part of the plan that routes by public number; its
// zero value is ready (the hunt runner is made on first use).
type numberRouting struct {
	huntOnce sync.Once
	hunt     *huntgroup.Hunt
}

// Hunts returns the runner of the hunt groups' calls and queues (one per
// node: a queue lives where its callers' media is).
func (p *Plan) Hunts() *huntgroup.Hunt {
	p.numbers.huntOnce.Do(func() {
		p.numbers.hunt = &huntgroup.Hunt{Dir: directory{p}, Clock: p.HuntClock, Recheck: p.HuntRecheck, Logger: p.Logger,
			Bridged: p.groupBridged}
		if p.Prompts != nil {
			p.numbers.hunt.Prompts = p.Prompts
		}
	})
	return p.numbers.hunt
}

// UserCallEnded is told when a user's last call ended: longest-idle groups
// read it, and queued callers look for a free member again.
func (p *Plan) UserCallEnded(ctx context.Context, userID string, at time.Time) {
	if p.Routes != nil {
		if err := p.Routes.UserCallEnded(ctx, userID, at); err != nil && !errors.Is(err, store.ErrNotFound) {
			p.log().Warn("dialplan: end of a member's call not recorded", "user_id", userID, "error", err)
		}
	}
	p.Hunts().Wake()
}

// routeTrunk routes a carrier's call by the called number alone: the
// number, in any usual form, is normalized to E.164 and looked up among
// every tenant's numbers; the tenant that holds it owns the call. An
// unknown number is 404, whatever the carrier sent.
func (p *Plan) routeTrunk(ctx context.Context, call callctl.Call, dialled string, log *slog.Logger) {
	in := call.Inbound()
	log = log.With("trunk_id", call.Origin().TrunkID)
	e164, err := numbering.Normalize(dialled)
	if err != nil || p.Routes == nil {
		log.Info("trunk call: the called number is not routable", "error", err)
		in.Hangup(callctl.CauseNotFound)
		return
	}
	n, err := p.Routes.NumberByE164(ctx, e164)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			log.Error("trunk call: number lookup", "error", err)
			in.Hangup(callctl.CauseFailure)
			return
		}
		log.Info("trunk call: no tenant holds the number", "e164", e164)
		in.Hangup(callctl.CauseNotFound)
		return
	}
	t, err := p.Store.Tenant(ctx, n.TenantID)
	if err != nil {
		log.Error("trunk call: the number's tenant", "error", err, "tenant_id", n.TenantID)
		in.Hangup(callctl.CauseFailure)
		return
	}
	call.SetTenant(t.ID, t.Domain)
	ctx = p.withContactName(ctx, call, t.ID)
	log = log.With("tenant_id", t.ID, "e164", e164)
	if !p.acceptsIncoming(call, t, log) {
		return
	}
	log.Info("trunk call routed", "destination", n.Destination.Type, "id", n.Destination.ID)
	p.dispatch(withNumber(ctx, n.ID), call, t, n.Destination, 0, log)
}

// dispatch connects the call's caller to d, a destination of tenant t: a
// number's, a hunt group's overflow or a call flow's end. hops counts the
// destinations already passed through; past MaxDispatch the call is
// refused rather than left circling.
func (p *Plan) dispatch(ctx context.Context, call callctl.Call, t store.Tenant, d store.Destination, hops int, log *slog.Logger) {
	in := call.Inbound()
	if max := cmpOr(p.MaxDispatch, DefaultMaxDispatch); hops >= max {
		log.Warn("dialplan: too many destinations in a row, call refused", "hops", hops, "destination", d.Type)
		in.Hangup(callctl.CauseFailure)
		return
	}
	switch d.Type {
	case store.DestUser:
		p.toUser(ctx, call, t, d.ID, log)
	case store.DestHuntGroup:
		g, err := p.Routes.HuntGroup(ctx, t.ID, d.ID)
		if err != nil {
			p.destinationGone(in, log, "hunt group", d.ID, err)
			return
		}
		p.toGroup(ctx, call, t, g, hops, log)
	case store.DestCallFlow:
		p.toFlow(ctx, call, t, d.ID, hops, log)
	case store.DestVoicemail:
		if p.Voicemail == nil {
			log.Warn("dialplan: voicemail is off, call rejected", "box", d.ID)
			in.Hangup(callctl.CauseUnavailable)
			return
		}
		p.Voicemail.Deposit(ctx, call, t.ID, d.ID, VoicemailUnavailable)
	case store.DestExternal:
		p.toExternal(ctx, call, t, d.Number, log)
	default:
		log.Error("dialplan: unknown destination type", "type", d.Type)
		in.Hangup(callctl.CauseFailure)
	}
}

// destinationGone rejects a call whose destination cannot be read.
func (p *Plan) destinationGone(in callctl.Leg, log *slog.Logger, what, id string, err error) {
	if errors.Is(err, store.ErrNotFound) {
		log.Warn("dialplan: destination not found", "what", what, "id", id)
		in.Hangup(callctl.CauseNotFound)
		return
	}
	log.Error("dialplan: destination lookup", "what", what, "id", id, "error", err)
	in.Hangup(callctl.CauseFailure)
}

// toUser reaches a licence of the tenant, following its forwarding as a
// call to its extension does.
func (p *Plan) toUser(ctx context.Context, call callctl.Call, t store.Tenant, userID string, log *slog.Logger) {
	in := call.Inbound()
	u, err := p.Store.User(ctx, t.ID, userID)
	if err != nil {
		p.destinationGone(in, log, "user", userID, err)
		return
	}
	if u.Licence != store.LicenceFull || u.Extension == "" {
		in.Hangup(callctl.CauseUnavailable)
		return
	}
	r := reacher{plan: p, call: call, tenantID: t.ID, domain: t.Domain, unreached: &unreached{}}
	leg, callee, cause := r.reach(ctx, u.Extension, 0)
	if leg == nil {
		if !p.toVoicemail(ctx, call, t.ID, r) {
			in.Hangup(cause)
		}
		return
	}
	call.SetCallee(callee)
	p.connect(ctx, call, t.ID, leg, callee)
}

// connect answers the caller and bridges it with leg, callee's, until
// either hangs up.
func (p *Plan) connect(ctx context.Context, call callctl.Call, tenantID string, leg callctl.Leg, callee callctl.Party) {
	in := call.Inbound()
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
	p.bridged(ctx, call, br, tenantID, callee, "")
	p.waitBridge(ctx, call, in, leg, br, p.log())
}

// toGroup runs a hunt group; when nobody answers, the call goes on to the
// group's overflow (or is refused as not answered when it has none).
func (p *Plan) toGroup(ctx context.Context, call callctl.Call, t store.Tenant, g store.HuntGroup, hops int, log *slog.Logger) {
	in := call.Inbound()
	log = log.With("hunt_group", g.ID)
	hg := huntGroup(g)
	hg.Language = t.Language
	if m := flowMusic(ctx); hg.Queue != nil && hg.Queue.Music == "" && m != "" {
		hg.Queue.Music = m // the group has none of its own: the flow's
	}
	out, err := p.Hunts().Run(withTenant(ctx, t), call, hg)
	switch {
	case err != nil:
		log.Error("dialplan: hunt group", "error", err)
		in.Hangup(callctl.CauseFailure)
	case out != huntgroup.Overflow:
	case g.Overflow.Type == "":
		in.Hangup(callctl.CauseNoAnswer)
	default:
		log.Info("hunt group overflow", "to", g.Overflow.Type, "id", g.Overflow.ID)
		p.dispatch(ctx, call, t, g.Overflow, hops+1, log)
	}
}

// huntGroup is the hunt program's view of a stored group.
func huntGroup(g store.HuntGroup) huntgroup.Group {
	out := huntgroup.Group{ID: g.ID, Strategy: huntgroup.Strategy(g.Strategy), Members: g.Members, MemberTimeout: g.MemberTimeout, Timeout: g.Timeout}
	if g.Queue != nil {
		out.Queue = &huntgroup.QueueSpec{MaxWait: g.Queue.MaxWait, Music: g.Queue.Music, AnnouncePosition: g.Queue.AnnouncePosition}
	}
	return out
}

// toFlow walks the flow's current version, read once here: an edit
// published while the caller is in the flow applies to the next call, not
// this one. The flow's end is dispatched like any destination.
func (p *Plan) toFlow(ctx context.Context, call callctl.Call, t store.Tenant, flowID string, hops int, log *slog.Logger) {
	in := call.Inbound()
	f, err := p.Routes.CallFlow(ctx, t.ID, flowID)
	if err != nil {
		p.destinationGone(in, log, "call flow", flowID, err)
		return
	}
	g, err := callflow.Parse(f.Graph)
	if err != nil {
		log.Error("dialplan: stored call flow unreadable", "flow", flowID, "version", f.Version, "error", err)
		in.Hangup(callctl.CauseFailure)
		return
	}
	path, dest, err := callflow.Run(ctx, in, t.ID, g, t.Timezone, p.Audio, p.now)
	log = log.With("flow", flowID, "version", f.Version, "path", path)
	if err != nil {
		if in.State() != callctl.LegEnded {
			log.Error("dialplan: call flow", "error", err)
			in.Hangup(callctl.CauseFailure)
		}
		return
	}
	log.Info("call flow walked", "to", dest.Type, "id", dest.ID)
	switch dest.Type {
	case callflow.TypeHangup:
		in.Hangup(callctl.CauseNormal)
		return
	case callflow.TypeVoicemailAccess:
		if p.VoicemailMenu == nil {
			log.Warn("dialplan: voicemail is off, call rejected")
			in.Hangup(callctl.CauseUnavailable)
			return
		}
		// Nobody is known behind a flow's caller: mailbox and PIN asked.
		p.VoicemailMenu.Listen(ctx, call, t.ID, "", true)
		return
	}
	if g.Music != "" {
		ctx = withFlowMusic(ctx, g.Music)
	}
	p.dispatch(ctx, call, t, store.Destination{Type: dest.Type, ID: dest.ID, Number: dest.Number}, hops+1, log)
}

type flowMusicKey struct{}

// withFlowMusic carries the music class of the flow a call came through
// to the destinations it leads to.
func withFlowMusic(ctx context.Context, class string) context.Context {
	return context.WithValue(ctx, flowMusicKey{}, class)
}

func flowMusic(ctx context.Context) string {
	m, _ := ctx.Value(flowMusicKey{}).(string)
	return m
}

func cmpOr(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}
