package b2bua

import (
	"context"
	"sync"
	"time"

	"pbx/callctl"
	"pbx/store"
)

// Call is what the router does with one inbound leg: it may answer it,
// play to it, dial new legs and bridge them. The call ends when Route
// returns; legs it still owns are hung up then.
type Call struct {
	svc *Service
	// Inbound is the leg that called.
	Inbound *Leg
	// Dialled is the user part of the Request-URI.
	Dialled string
	Start   time.Time

	origin callctl.Origin // who placed the call, as admission found it

	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	legs   []*Leg
	callee string // what the CDR names as callee, default Dialled
}

// Origin is who placed the call, as admission found it.
func (c *Call) Origin() callctl.Origin { return c.origin }

// Caller is the caller's identity as presented to the callees.
func (c *Call) Caller() Party { return c.Inbound.remote }

// Context ends when the call is over or the service shuts down.
func (c *Call) Context() context.Context { return c.ctx }

// SetCallee names the callee in the CDR (default: the dialled number).
func (c *Call) SetCallee(s string) {
	c.mu.Lock()
	c.callee = s
	c.mu.Unlock()
}

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
}

// finish hangs up the legs the call still owns and writes the CDR.
func (c *Call) finish() {
	c.cancel()
	c.mu.Lock()
	legs := append([]*Leg(nil), c.legs...)
	c.mu.Unlock()
	for _, l := range legs {
		if l == c.Inbound && !l.Answered() {
			l.Hangup(CauseUnavailable)
		} else {
			l.Hangup(CauseNormal)
		}
	}
	c.writeCDR()
}

func (c *Call) writeCDR() {
	if c.svc.cfg.CDRs == nil {
		return
	}
	in := c.Inbound
	end := time.Now()
	rec := store.CDR{TenantID: c.origin.TenantID, CallID: in.callID, Caller: c.Inbound.remote.Number, Start: c.Start, End: end}
	if rec.Caller == "" && in.uas != nil {
		// A caller without a number (a light licence) is named by what
		// its device put in From: its SIP username.
		rec.Caller = in.uas.InviteRequest.From().Address.User
	}
	c.mu.Lock()
	rec.Callee = c.callee
	c.mu.Unlock()
	if rec.Callee == "" {
		rec.Callee = c.Dialled
	}
	cause := in.Cause()
	rec.HangupCause = string(cause)
	if at := in.AnsweredAt(); !at.IsZero() {
		rec.Answer = at
		rec.Disposition = "answered"
		rec.BillableSeconds = int((end.Sub(at) + time.Second/2) / time.Second)
	} else {
		rec.Disposition = disposition(cause)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.svc.cfg.CDRs.InsertCDR(ctx, rec); err != nil {
		c.svc.log.Error("cdr write failed", "call_id", rec.CallID, "error", err)
	}
}
