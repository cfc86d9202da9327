package registrar

import (
	"context"
	"sync"
	"time"

	"pbx/store"
)

// batchWriter groups the binding changes of concurrent REGISTERs into one
// store transaction (group commit): the cost of a commit is shared by every
// REGISTER that arrived during the previous one. Each caller is told of the
// commit that carries its changes: a REGISTER that adds or changes a binding
// answers only then, so that a 200 OK is only sent for a persisted binding;
// a refresh answers at once (see Registrar.commit).
//
// Changes nobody waits for (refreshes) are held up to refreshDelay for
// others to join them, unless a change somebody waits for comes: the
// begin and commit of a transaction cost more than a refresh's UPDATE, and
// at a steady rate of refreshes the writer would otherwise commit a few at
// a time, as fast as it could.
type batchWriter struct {
	st      Store
	mu      sync.Mutex
	pending []store.BindingChange
	waiters []func(error)
	busy    bool
	closed  bool
	idle    *sync.Cond
	// The slices of the batch before, reused for the next: a storm's
	// batches would otherwise grow new ones by appending, each time.
	sparePending []store.BindingChange
	spareWaiters []func(error)
	urgent       bool          // a waiter of pending waits for its commit
	kick         chan struct{} // ends the hold of refreshes
	hold         *time.Timer
}

func newBatchWriter(st Store) *batchWriter {
	w := &batchWriter{st: st, kick: make(chan struct{}, 1), hold: time.NewTimer(time.Hour)}
	w.hold.Stop()
	w.idle = sync.NewCond(&w.mu)
	return w
}

const (
	maxWriteTime = 30 * time.Second
	// refreshDelay bounds how long a refresh, already answered, waits
	// for its commit: a crash meanwhile leaves the binding with the expiry
	// it had.
	refreshDelay = 50 * time.Millisecond
	// maxHeld ends the hold of refreshes early.
	maxHeld = 4096
)

// enqueue queues changes for the next commit; done is called, on the
// writer's goroutine, with the result of the commit that carries them (or
// of the commits before them, for empty changes). Batches commit in the
// order they were queued; urgent ones (somebody waits) without delay. It
// fails only once the writer is closed.
func (w *batchWriter) enqueue(changes []store.BindingChange, done func(error), urgent bool) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return context.Canceled
	}
	w.pending = append(w.pending, changes...)
	w.waiters = append(w.waiters, done)
	if urgent && !w.urgent {
		w.urgent = true
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
	if !w.busy {
		w.busy = true
		go w.run()
	}
	w.mu.Unlock()
	return nil
}

// apply queues changes and waits for their commit.
func (w *batchWriter) apply(changes []store.BindingChange) error {
	c := make(chan error, 1)
	if err := w.enqueue(changes, func(err error) { c <- err }, true); err != nil {
		return err
	}
	return <-c
}

// run commits batches until nothing is pending. Only one run is active.
func (w *batchWriter) run() {
	for {
		w.mu.Lock()
		if len(w.waiters) == 0 {
			w.busy = false
			w.idle.Broadcast()
			w.mu.Unlock()
			return
		}
		if !w.urgent && !w.closed && len(w.pending) < maxHeld {
			w.mu.Unlock()
			w.hold.Reset(refreshDelay)
			select {
			case <-w.kick:
			case <-w.hold.C:
			}
			w.hold.Stop()
			w.mu.Lock()
		}
		w.urgent = false
		select {
		case <-w.kick: // the batch takes what it was kicked for
		default:
		}
		batch, waiters := w.pending, w.waiters
		w.pending, w.waiters = w.sparePending, w.spareWaiters
		w.sparePending, w.spareWaiters = nil, nil
		w.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), maxWriteTime)
		err := w.st.ApplyBindings(ctx, batch)
		cancel()
		for _, done := range waiters {
			done(err)
		}
		clear(batch) // what they hold may go
		clear(waiters)
		w.mu.Lock()
		w.sparePending, w.spareWaiters = batch[:0], waiters[:0]
		w.mu.Unlock()
	}
}

func (w *batchWriter) close() {
	w.mu.Lock()
	w.closed = true
	select {
	case w.kick <- struct{}{}: // no hold: commit what is left
	default:
	}
	for w.busy {
		w.idle.Wait()
	}
	w.mu.Unlock()
}

// barrier waits until the changes queued before it are committed.
func (w *batchWriter) barrier() {
	c := make(chan error, 1)
	if w.enqueue(nil, func(error) { c <- nil }, true) == nil {
		<-c
	}
}
