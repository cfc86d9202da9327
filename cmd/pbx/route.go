package main

import (
	"context"
	"sync/atomic"

	"pbx/callctl"
	"pbx/dialplan"
	"pbx/sip/b2bua"
)

// router hands calls to the dialplan. Tests of the call-control primitives
// run a program of their own in its place (setProgram), through the same
// SIP and media path as any call.
type router struct {
	plan    *dialplan.Plan
	program atomic.Pointer[func(context.Context, *b2bua.Call)]
}

func (r *router) Route(ctx context.Context, call *b2bua.Call) {
	if p := r.program.Load(); p != nil {
		(*p)(ctx, call)
		return
	}
	r.plan.Route(ctx, call)
}

func (r *router) BlindTransfer(ctx context.Context, t *b2bua.Transfer) {
	r.plan.BlindTransfer(ctx, transfer{t})
}

// transfer is a b2bua transfer as call control sees it (its Call is the
// b2bua's concrete call).
type transfer struct{ *b2bua.Transfer }

var _ callctl.Transfer = transfer{}

func (t transfer) Call() callctl.Call { return t.Transfer.Call() }

// setProgram routes every new call to p (nil: back to the dialplan).
func (r *router) setProgram(p func(context.Context, *b2bua.Call)) {
	if p == nil {
		r.program.Store(nil)
		return
	}
	r.program.Store(&p)
}
