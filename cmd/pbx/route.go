package main

import (
	"context"
	"sync/atomic"

	"pbx/callctl"
	"pbx/dialplan"
)

// router hands calls to the dialplan. Tests of the call-control primitives
// run a program of their own in its place (setProgram), through the same
// SIP and media path as any call.
type router struct {
	plan    *dialplan.Plan
	program atomic.Pointer[func(context.Context, callctl.Call)]
}

func (r *router) Route(ctx context.Context, call callctl.Call) {
	if p := r.program.Load(); p != nil {
		(*p)(ctx, call)
		return
	}
	r.plan.Route(ctx, call)
}

func (r *router) BlindTransfer(ctx context.Context, t callctl.Transfer) {
	r.plan.BlindTransfer(ctx, t)
}

// setProgram routes every new call to p (nil: back to the dialplan).
func (r *router) setProgram(p func(context.Context, callctl.Call)) {
	if p == nil {
		r.program.Store(nil)
		return
	}
	r.program.Store(&p)
}
