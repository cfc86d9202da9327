package dialplan

import (
	"context"
	"log/slog"
	"net"
	"strconv"

	"pbx/callctl"
	"pbx/store"
)

// toExternal dials an outside number that a public number (or a call
// flow) leads to, through the outbound routes like a user's forward: the
// original caller is presented as the trunk wants it (see forTrunk), the
// tenant's barring applies. The carrier's own answers (busy, unknown
// number) are final; its early media is relayed.
func (p *Plan) toExternal(ctx context.Context, call callctl.Call, t store.Tenant, number string, log *slog.Logger) {
	in := call.Inbound()
	r := reacher{plan: p, call: call, tenantID: t.ID, domain: t.Domain, forwardedBy: &forwarding{reason: "unconditional"}}
	leg, callee, cause := r.external(ctx, number)
	if leg == nil {
		log.Info("dialplan: external destination not reached", "number", number, "cause", string(cause))
		in.Hangup(cause)
		return
	}
	call.SetCallee(callee)
	p.connect(ctx, call, leg)
}

// outboundTrunk is the trunk a carrier's call goes back out through when
// no route matches: the one it came in on, else the first trunk.
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
