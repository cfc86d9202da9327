package b2bua

import (
	"context"

	"github.com/emiago/sipgo/sip"

	"pbx/callctl"
)

// Admitter identifies who places an incoming call: a device of a tenant
// (digest credentials), a carrier trunk (by its source address or its
// credentials), or no one. It returns the call's origin, whose Caller is
// the identity presented to callees; when ok is false it has already
// answered the request (a 407 challenge, 403) or dropped it.
//
// Admission says who calls, not what they may do: whether a licence or a
// tenant may place this call (suspensions, barring, emergency numbers) is
// the router's policy, so that an emergency call from a suspended licence
// still reaches it.
type Admitter interface {
	Admit(ctx context.Context, req *sip.Request, tx sip.ServerTransaction) (origin callctl.Origin, ok bool)
}
