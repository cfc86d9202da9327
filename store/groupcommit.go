package store

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// groupCommit runs the small writes every call makes (its record, the end
// of a user's last call) in shared transactions: each caller still waits
// for the commit that carries its write, but a commit (on SQLite: the pages
// appended to the write-ahead log, the lock taken and released) is paid
// once for all the writes that arrived while the previous one ran. A write
// that fails is run again alone, so that it fails by itself and the others
// commit.
type groupCommit struct {
	s       *Store
	mu      sync.Mutex
	pending []*groupJob
	busy    bool
	idle    *sync.Cond
}

type groupJob struct {
	ctx  context.Context
	fn   func(*sql.Tx) error
	done chan error
}

// maxGroup bounds the writes of one transaction.
const maxGroup = 256

// groupLinger is how long a batch gathers writes before its commit. At a
// steady call rate the writes arrive one by one, each before the previous
// commit has begun: without it nearly every transaction carried one write,
// and its begin and commit (the WAL's shared-memory locks and the frames
// appended) cost three times the write itself. A call's record is written
// after its last message is answered, so nobody waits on these 20 ms.
const groupLinger = 20 * time.Millisecond

func newGroupCommit(s *Store) *groupCommit {
	g := &groupCommit{s: s}
	g.idle = sync.NewCond(&g.mu)
	return g
}

// exec runs fn in a transaction shared with other writes and returns once
// it is committed (or has failed).
func (g *groupCommit) exec(ctx context.Context, fn func(*sql.Tx) error) error {
	j := &groupJob{ctx: ctx, fn: fn, done: make(chan error, 1)}
	g.mu.Lock()
	g.pending = append(g.pending, j)
	if !g.busy {
		g.busy = true
		go g.run()
	}
	g.mu.Unlock()
	select {
	case err := <-j.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run commits batches until nothing is pending; one run at a time.
func (g *groupCommit) run() {
	for {
		g.mu.Lock()
		if n := len(g.pending); n > 0 && n < maxGroup {
			g.mu.Unlock()
			time.Sleep(groupLinger)
			g.mu.Lock()
		}
		if len(g.pending) == 0 {
			g.busy = false
			g.idle.Broadcast()
			g.mu.Unlock()
			return
		}
		n := min(len(g.pending), maxGroup)
		batch := g.pending[:n:n]
		g.pending = append([]*groupJob(nil), g.pending[n:]...)
		g.mu.Unlock()
		g.commit(batch)
	}
}

func (g *groupCommit) commit(batch []*groupJob) {
	live := batch[:0:0]
	for _, j := range batch {
		if err := j.ctx.Err(); err != nil {
			j.done <- err // its caller gave up: do not write it
			continue
		}
		live = append(live, j)
	}
	if len(live) == 0 {
		return
	}
	err := g.s.tx(context.Background(), func(tx *sql.Tx) error {
		for _, j := range live {
			if err := j.fn(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil || len(live) == 1 {
		for _, j := range live {
			j.done <- err
		}
		return
	}
	for _, j := range live {
		j.done <- g.s.tx(j.ctx, j.fn)
	}
}

// wait returns once no batch is pending or running (Close).
func (g *groupCommit) wait() {
	g.mu.Lock()
	for g.busy {
		g.idle.Wait()
	}
	g.mu.Unlock()
}
