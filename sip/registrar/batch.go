package registrar

import (
	"context"
	"sync"
	"time"

	"pbx/store"
)

// batchWriter groups the binding changes of concurrent REGISTERs into one
// store transaction (group commit): each caller waits for the commit that
// carries its changes, so a 200 OK is only sent for a persisted binding,
// while the cost of a commit is shared by every REGISTER that arrived during
// the previous one.
type batchWriter struct {
	st      Store
	mu      sync.Mutex
	pending []store.BindingChange
	waiters []chan error
	busy    bool
	closed  bool
	idle    *sync.Cond
}

func newBatchWriter(st Store) *batchWriter {
	w := &batchWriter{st: st}
	w.idle = sync.NewCond(&w.mu)
	return w
}

const maxWriteTime = 30 * time.Second

func (w *batchWriter) apply(ctx context.Context, changes []store.BindingChange) error {
	done := make(chan error, 1)
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return context.Canceled
	}
	w.pending = append(w.pending, changes...)
	w.waiters = append(w.waiters, done)
	if !w.busy {
		w.busy = true
		go w.run()
	}
	w.mu.Unlock()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run commits batches until nothing is pending. Only one run is active.
func (w *batchWriter) run() {
	for {
		w.mu.Lock()
		if len(w.pending) == 0 {
			w.busy = false
			w.idle.Broadcast()
			w.mu.Unlock()
			return
		}
		batch, waiters := w.pending, w.waiters
		w.pending, w.waiters = nil, nil
		w.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), maxWriteTime)
		err := w.st.ApplyBindings(ctx, batch)
		cancel()
		for _, c := range waiters {
			c <- err
		}
	}
}

func (w *batchWriter) close() {
	w.mu.Lock()
	w.closed = true
	for w.busy {
		w.idle.Wait()
	}
	w.mu.Unlock()
}
