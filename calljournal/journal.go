// Package calljournal keeps a durable note of the calls a node has up, so
// that a crash loses no call record: every call that ended before the crash
// has its CDR (written when it ended), and every call that was up gets one
// with the cause system_failure when the node starts again.
//
// Calls are noted in memory when they begin, are answered and end; a
// writer goroutine puts what changed, and the node's heartbeat, into the
// store in one transaction per interval (default 1 s). So a call costs no
// synchronous write beyond its CDR, and a crash can forget at most the
// calls that began in the last interval (they never reached the journal)
// and stretch the recorded end of the others by at most an interval.
package calljournal

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"pbx/store"
)

// Store is where the journal goes.
type Store interface {
	WriteJournal(ctx context.Context, b store.JournalBatch) error
	RecoverJournal(ctx context.Context, node string, now time.Time) ([]store.CDR, error)
}

// DefaultInterval is how often the journal is written.
const DefaultInterval = time.Second

// Journal is one node's journal. Its methods are safe for concurrent use.
type Journal struct {
	st   Store
	node string
	now  func() time.Time
	log  *slog.Logger

	flushMu sync.Mutex // one flush at a time

	mu    sync.Mutex
	live  map[string]*live
	ended []string // calls whose rows are written and must go
}

type live struct {
	e        store.JournalEntry
	answered func() time.Time
	written  bool // its row is in the store
	answer   bool // its answer time is in the store
}

// New makes the journal of node (empty for a single node). now defaults to
// time.Now, log to slog.Default.
func New(st Store, node string, now func() time.Time, log *slog.Logger) *Journal {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &Journal{st: st, node: node, now: now, log: log, live: map[string]*live{}}
}

// Recover writes the records of the calls the node had up when it last
// stopped without ending them (a crash); call it before taking calls.
func (j *Journal) Recover(ctx context.Context) ([]store.CDR, error) {
	cdrs, err := j.st.RecoverJournal(ctx, j.node, j.now())
	for _, c := range cdrs {
		j.log.Warn("call was up when the server stopped: recorded as a system failure", "call_id", c.CallID,
			"tenant_id", c.TenantID, "from", c.Caller, "to", c.Callee, "ended", c.End.Format(time.RFC3339))
	}
	return cdrs, err
}

// Begin notes a call that started; answered reports its answer time (zero
// while unanswered) and is read when the journal is written. A call with
// no tenant (a carrier's call to no number) gets no record and is not
// noted.
func (j *Journal) Begin(e store.JournalEntry, answered func() time.Time) {
	if e.TenantID == "" || e.CallID == "" {
		return
	}
	j.mu.Lock()
	j.live[e.CallID] = &live{e: e, answered: answered}
	j.mu.Unlock()
}

// End notes that a call ended. If its record was written its row goes;
// if not, a written row stays, for the next start to make the record
// (a store that fails now may work then).
func (j *Journal) End(callID string, recorded bool) {
	j.mu.Lock()
	if l, ok := j.live[callID]; ok {
		delete(j.live, callID)
		if l.written && recorded {
			j.ended = append(j.ended, callID)
		}
	}
	j.mu.Unlock()
}

// Live counts the calls noted and not ended.
func (j *Journal) Live() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.live)
}

// Flush writes what changed since the last flush and the heartbeat. What
// fails to be written is written by the next flush.
func (j *Journal) Flush(ctx context.Context) error {
	j.flushMu.Lock()
	defer j.flushMu.Unlock()
	j.mu.Lock()
	fresh := make([]*live, 0, len(j.live))
	for _, l := range j.live {
		if !l.written || !l.answer {
			fresh = append(fresh, l)
		}
	}
	ended := j.ended[:len(j.ended):len(j.ended)]
	j.mu.Unlock()

	b := store.JournalBatch{Node: j.node, Ended: ended, Seen: j.now()}
	var begun, answered []*live
	for _, l := range fresh {
		// answered takes the call's own locks: never under ours.
		at := time.Time{}
		if l.answered != nil {
			at = l.answered()
		}
		switch {
		case !l.written:
			e := l.e
			e.Answer = at
			b.Begun = append(b.Begun, e)
			begun = append(begun, l)
			if !at.IsZero() {
				answered = append(answered, l)
			}
		case !at.IsZero():
			b.Answered = append(b.Answered, store.JournalEntry{CallID: l.e.CallID, Answer: at})
			answered = append(answered, l)
		}
	}
	if err := j.st.WriteJournal(ctx, b); err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, l := range begun {
		l.written = true
		if _, ok := j.live[l.e.CallID]; !ok {
			// It ended while the batch was written: its row goes next.
			j.ended = append(j.ended, l.e.CallID)
		}
	}
	for _, l := range answered {
		l.answer = true
	}
	j.ended = j.ended[len(ended):]
	return nil
}

// Run flushes every interval until ctx ends, then once more with a short
// deadline, so that a clean stop leaves no row behind.
func (j *Journal) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := j.Flush(fctx); err != nil {
				j.log.Error("call journal: last write failed", "error", err)
			}
			return
		case <-t.C:
		}
		err := j.Flush(ctx)
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			j.log.Error("call journal: write failed; retrying", "error", err)
			failing = true
		case err == nil && failing:
			j.log.Info("call journal: writing again")
			failing = false
		}
	}
}
