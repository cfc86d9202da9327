package huntgroup

import (
	"context"
	"sync"
	"time"
)

// Queue holds the callers waiting for one group's members, first come
// first served. It lives in the node that answered the callers: a caller's
// place in line is tied to the call (and its media) on this node.
type Queue struct {
	mu      sync.Mutex
	waiting []*Ticket
}

// Ticket is one caller's place in a queue.
type Ticket struct {
	q    *Queue
	wake chan struct{} // a member may have become free: look again
}

// Join puts a caller at the end of the line.
func (q *Queue) Join() *Ticket {
	t := &Ticket{q: q, wake: make(chan struct{}, 1)}
	q.mu.Lock()
	q.waiting = append(q.waiting, t)
	q.mu.Unlock()
	return t
}

// Len is how many callers wait.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.waiting)
}

// Wake tells the caller at the head of the line that a member may have
// become free (a member's call ended, a member registered or left DND).
func (q *Queue) Wake() {
	q.mu.Lock()
	var head *Ticket
	if len(q.waiting) > 0 {
		head = q.waiting[0]
	}
	q.mu.Unlock()
	if head != nil {
		head.poke()
	}
}

func (t *Ticket) poke() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// Position is the caller's place in line, 1 for the head (0 once left).
func (t *Ticket) Position() int {
	t.q.mu.Lock()
	defer t.q.mu.Unlock()
	for i, x := range t.q.waiting {
		if x == t {
			return i + 1
		}
	}
	return 0
}

// Leave takes the caller out of the line (served, gave up, hung up); the
// next caller becomes the head and looks for a free member at once.
func (t *Ticket) Leave() {
	t.q.mu.Lock()
	for i, x := range t.q.waiting {
		if x == t {
			t.q.waiting = append(t.q.waiting[:i], t.q.waiting[i+1:]...)
			break
		}
	}
	t.q.mu.Unlock()
	t.q.Wake()
}

// Clock is the time a queue waits by; tests give a fake one.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Turn waits until the caller is at the head of the line and either was
// woken or recheck has passed (members' state can change without anyone
// telling the queue: a phone registering). It returns ctx's error when ctx
// ends first.
func (t *Ticket) Turn(ctx context.Context, clk Clock, recheck time.Duration) error {
	for {
		select {
		case <-t.wake:
		case <-clk.After(recheck):
		case <-ctx.Done():
			return ctx.Err()
		}
		if t.Position() == 1 {
			return nil
		}
	}
}
