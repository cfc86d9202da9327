package b2bua

import (
	"time"

	"pbx/store"
)

// Journal keeps a durable note of the calls up, so that a crash loses no
// call record (package calljournal implements it). Its methods must return
// at once: they are called on the signalling path.
type Journal interface {
	// Begin notes a call that started; answered reports its answer time
	// (zero while unanswered).
	Begin(e store.JournalEntry, answered func() time.Time)
	// End notes that the call ended; recorded says whether its record
	// was written (if not, its journal row stays, so that the record is
	// made when the node next starts).
	End(callID string, recorded bool)
}

// journalBegin notes a new call in the journal, if there is one.
func (c *Call) journalBegin() {
	j := c.svc.cfg.Journal
	if j == nil {
		return
	}
	e := store.JournalEntry{CallID: c.id, TenantID: c.tenant.ID, Callee: c.dialled, Origin: string(c.origin.Kind), Start: c.start,
		Caller: c.origin.Caller.Number}
	if in := c.inbound; in != nil && in.remote.Number != "" {
		e.Caller = in.remote.Number
	}
	j.Begin(e, c.answeredAt)
}

// answeredAt is when the call was first answered: its inbound leg's
// answer, or for an originated call the answer of the leg that won.
func (c *Call) answeredAt() time.Time {
	if in := c.inbound; in != nil {
		return in.AnsweredAt()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.answerAt
}

func (c *Call) journalEnd(recorded bool) {
	if j := c.svc.cfg.Journal; j != nil {
		j.End(c.id, recorded)
	}
}
