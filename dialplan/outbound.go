package dialplan

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"pbx/callctl"
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
		t.Headers = headers
		t.Parts = parts
		t.ResponseTimeout = timeout
		out = append(out, callctl.Destination{Targets: []callctl.Target{t}, Callee: callctl.Party{Number: number}, Tag: tr.ID})
	}
	return out, nil
}
