package b2bua

import (
	"context"
	"errors"
	"time"

	"github.com/emiago/sipgo/sip"

	"pbx/callctl"
)

// Originate starts a call with no inbound leg (a campaign, click-to-call,
// a callback), running program on a goroutine the service waits for on
// Close; it returns at once. The program dials, with the origin's caller as
// the identity presented, and bridges as a routed call does; when it
// returns, the call's legs are hung up and the CDR (origin "originate") is
// written. It fails with callctl.ErrDraining once the service refuses new
// calls.
func (s *Service) Originate(spec callctl.OriginateSpec, program callctl.Program) (callctl.Call, error) {
	if program == nil {
		return nil, errors.New("b2bua: originate needs a program")
	}
	o := spec.Origin
	o.Kind = callctl.OriginOriginate
	if o.Caller.Domain == "" {
		o.Caller.Domain = o.Domain
	}
	c := &Call{svc: s, id: "orig-" + sip.GenerateTagN(20), dialled: spec.Dialled, start: time.Now(), origin: o}
	c.tenant.ID, c.tenant.Domain = o.TenantID, o.Domain
	c.ctx, c.cancel = context.WithCancel(s.ctx)
	s.mu.Lock()
	if s.closed || s.draining() {
		s.mu.Unlock()
		c.cancel()
		return nil, callctl.ErrDraining
	}
	s.calls[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	c.journalBegin()
	go func() {
		defer s.wg.Done()
		s.runCall(c, program)
	}()
	return c, nil
}
