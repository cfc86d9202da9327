package dialplan

import (
	"context"
	"log/slog"
	"net"
	"strconv"

	"pbx/callctl"
	"pbx/store"
)

// toExternal dials an outside number through a carrier trunk for tenant
// tenantID: the trunk the call came in on, else the first trunk
// configured. The carrier's own answers (busy, unknown number) are
// final; its early media is relayed.
func (p *Plan) toExternal(ctx context.Context, call callctl.Call, tenantID, number string, log *slog.Logger) {
	in := call.Inbound()
	tr, err := p.outboundTrunk(ctx, call.Origin())
	if err != nil {
		log.Warn("dialplan: no trunk for an external destination", "number", number, "error", err)
		in.Hangup(callctl.CauseCongestion)
		return
	}
	target, err := p.trunkTarget(ctx, tr, number)
	if err != nil {
		log.Error("dialplan: trunk credentials", "trunk_id", tr.ID, "error", err)
		in.Hangup(callctl.CauseFailure)
		return
	}
	spec := callctl.DialSpec{
		Destinations: []callctl.Destination{{Targets: []callctl.Target{target}, Callee: callctl.Party{Number: number}, Tag: tr.ID}},
		Strategy:     callctl.Sequential,
		Timeout:      ringTimeout(store.User{}, p.RingTimeout),
		EarlyMedia:   true,
		StopOn:       callctl.TrunkFailover,
	}
	sess, ok := p.admitExternal(ctx, call, tenantID, number, log)
	if !ok {
		return
	}
	res, err := call.Dial(ctx, spec).Wait(ctx)
	if err != nil {
		if sess != nil {
			sess.Forget()
		}
		in.Hangup(callctl.CauseOf(err))
		return
	}
	call.SetCallee(callctl.Party{Number: number})
	p.connectMetered(ctx, call, res.Leg, sess, log)
}

// outboundTrunk picks the trunk an external destination leaves through.
func (p *Plan) outboundTrunk(ctx context.Context, o callctl.Origin) (store.Trunk, error) {
	if o.Kind == callctl.OriginTrunk && o.TrunkID != "" {
		return p.Routes.Trunk(ctx, o.TrunkID)
	}
	ts, err := p.Routes.Trunks(ctx)
	if err != nil {
		return store.Trunk{}, err
	}
	if len(ts) == 0 {
		return store.Trunk{}, store.ErrNotFound
	}
	return ts[0], nil
}

// trunkTarget is number at the trunk's host, with its credentials for the
// carrier's 401/407.
func (p *Plan) trunkTarget(ctx context.Context, tr store.Trunk, number string) (callctl.Target, error) {
	port := tr.Port
	if port == 0 {
		port = 5060
	}
	hostport := net.JoinHostPort(tr.Host, strconv.Itoa(port))
	t := callctl.Target{URI: "sip:" + number + "@" + hostport, Via: hostport, Transport: tr.Transport}
	if tr.Username != "" {
		pw, err := p.Routes.TrunkPassword(ctx, tr.ID)
		if err != nil {
			return callctl.Target{}, err
		}
		t.Auth = &callctl.Credentials{Username: tr.Username, Password: pw}
	}
	return t, nil
}
