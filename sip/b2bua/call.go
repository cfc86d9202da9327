package b2bua

import (
	"context"
	"sync"
	"time"

	"pbx/callctl"
	"pbx/store"
)

// Call is what a program does with its legs: the inbound leg of a routed
// call (none for an originated one) and the legs it dials and bridges. The
// call ends when its program returns; legs it still owns are hung up then
// and the CDR is written.
type Call struct {
	svc     *Service
	id      string
	inbound *Leg // nil for an originated call
	dialled string
	start   time.Time
	origin  callctl.Origin // who placed the call, as admission found it

	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	tenant   store.Tenant // ID and Domain: the call's tenant (CDR, hold music)
	legs     []*Leg
	callee   string    // what the CDR names as callee; default dialled
	answered *Leg      // the first dialled leg that won a dial
	failure  Cause     // the cause of the last failed dial
	answerAt time.Time // of the first dialled leg that won
}

var _ callctl.Call = (*Call)(nil)

// ID identifies the call: the inbound leg's Call-ID, or a generated id.
func (c *Call) ID() string { return c.id }

// Origin is who placed the call, as admission found it.
func (c *Call) Origin() callctl.Origin { return c.origin }

// Dialled is what the caller dialled: the user part of the Request-URI (of
// To when it has none).
func (c *Call) Dialled() string { return c.dialled }

// Inbound is the leg that called; nil for an originated call.
func (c *Call) Inbound() callctl.Leg {
	if c.inbound == nil {
		return nil // not a nil *Leg in a non-nil interface
	}
	return c.inbound
}

// Context ends when no party is left in the call (its inbound leg has
// ended and no dialled leg is up, or every leg that was answered has
// ended), or when the service shuts down.
func (c *Call) Context() context.Context { return c.ctx }

// caller is the identity presented to callees: the inbound leg's far end,
// or the origin's caller for an originated call.
func (c *Call) caller() Party {
	if c.inbound != nil {
		return c.inbound.remote
	}
	return c.origin.Caller
}

// SetTenant makes the call the tenant's (CDR, hold music): a trunk call
// once its number is routed.
func (c *Call) SetTenant(tenantID, domain string) {
	c.mu.Lock()
	c.tenant.ID, c.tenant.Domain = tenantID, domain
	c.mu.Unlock()
}

func (c *Call) tenantID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tenant.ID
}

// SetCallee names the callee in the CDR (default: the dialled number).
func (c *Call) SetCallee(p callctl.Party) {
	c.mu.Lock()
	c.callee = p.Number
	c.mu.Unlock()
}

// adopt makes l one of the call's legs, taking it from the call that had
// it, and watches it end for the call's "done".
func (c *Call) adopt(l *Leg) {
	var old *Call
	l.mu.Lock()
	old, l.call = l.call, c
	l.mu.Unlock()
	if old == c {
		return
	}
	if old != nil {
		old.mu.Lock()
		for i, x := range old.legs {
			if x == l {
				old.legs = append(old.legs[:i], old.legs[i+1:]...)
				break
			}
		}
		old.mu.Unlock()
	}
	c.mu.Lock()
	c.legs = append(c.legs, l)
	c.mu.Unlock()
	c.svc.spawn(func() {
		select {
		case <-l.Done():
			c.checkDone()
		case <-c.ctx.Done():
		}
	})
}

// checkDone ends the call's context once no party is left: the inbound
// leg ended and no dialled leg is up, or (an originated call) every leg
// that was answered has ended.
func (c *Call) checkDone() {
	c.mu.Lock()
	legs := append([]*Leg(nil), c.legs...)
	c.mu.Unlock()
	up, answered := false, false
	for _, l := range legs {
		if l == c.inbound {
			continue
		}
		if l.Answered() {
			answered = true
			select {
			case <-l.Done():
			default:
				up = true
			}
		}
	}
	if up {
		return
	}
	if c.inbound != nil {
		select {
		case <-c.inbound.Done():
			c.cancel()
		default:
		}
		return
	}
	if answered {
		c.cancel()
	}
}

// answeredBy notes the dialled leg that won a dial (the CDR of an
// originated call names it).
func (c *Call) answeredBy(l *Leg) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.answered == nil {
		c.answered = l
		c.answerAt = l.AnsweredAt()
		if c.answerAt.IsZero() {
			c.answerAt = time.Now()
		}
	}
}

// dialFailed notes why a dial reached nobody.
func (c *Call) dialFailed(err error) {
	c.mu.Lock()
	c.failure = CauseOf(err)
	c.mu.Unlock()
}

// finish hangs up the legs the call still owns and writes the CDR.
func (c *Call) finish() {
	c.cancel()
	c.mu.Lock()
	legs := append([]*Leg(nil), c.legs...)
	c.mu.Unlock()
	for _, l := range legs {
		if l == c.inbound && !l.Answered() {
			l.Hangup(CauseUnavailable)
		} else {
			l.Hangup(CauseNormal)
		}
	}
	c.journalEnd(c.writeCDR())
}

// writeCDR writes the call's record; it reports whether it did.
func (c *Call) writeCDR() bool {
	if c.svc.cfg.CDRs == nil {
		return false
	}
	end := time.Now()
	c.mu.Lock()
	rec := store.CDR{TenantID: c.tenant.ID, CallID: c.id, Origin: string(c.origin.Kind), Start: c.start, End: end, Callee: c.callee}
	first, firstAt, failure := c.answered, c.answerAt, c.failure
	c.mu.Unlock()
	var cause Cause
	var answerAt time.Time
	if in := c.inbound; in != nil {
		rec.Caller = in.remote.Number
		if rec.Caller == "" && in.uas != nil {
			// A caller without a number (a light licence) is named by
			// what its device put in From: its SIP username.
			rec.Caller = in.uas.InviteRequest.From().Address.User
		}
		cause, answerAt = in.Cause(), in.AnsweredAt()
	} else {
		// An originated call: the caller is the identity it presented,
		// the callee the destination that answered first.
		rec.Caller = c.origin.Caller.Number
		cause, answerAt = failure, firstAt
		if first != nil {
			cause = first.Cause()
			if rec.Callee == "" {
				rec.Callee = first.remote.Number
			}
		}
		if cause == "" {
			cause = CauseNormal
		}
	}
	if rec.Caller == "" {
		rec.Caller = c.origin.Caller.Number
	}
	if rec.Callee == "" {
		rec.Callee = c.dialled
	}
	rec.HangupCause = string(cause)
	if !answerAt.IsZero() {
		rec.Answer = answerAt
		rec.Disposition = "answered"
		rec.BillableSeconds = int((end.Sub(answerAt) + time.Second/2) / time.Second)
	} else {
		rec.Disposition = disposition(cause)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.svc.cfg.CDRs.InsertCDR(ctx, rec); err != nil {
		c.svc.log.Error("cdr write failed", "call_id", rec.CallID, "error", err)
		return false
	}
	return true
}
