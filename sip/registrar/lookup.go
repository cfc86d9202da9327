package registrar

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"

	"pbx/store"
)

// lookups runs the store look-ups of REGISTERs on a few long-lived
// goroutines. sipgo handles each request on a new goroutine, whose stack
// starts small; the SQLite driver's deep call chains then grow it by
// copying several times per request, which cost about a seventh of a
// REGISTER's CPU. A worker's stack, once grown, stays grown.
type lookups struct {
	jobs chan *lookupJob
	quit chan struct{}
	wg   sync.WaitGroup
	pool sync.Pool // *lookupJob
}

type lookupJob struct {
	ctx  context.Context
	user string
	now  time.Time
	fn   func(ctx context.Context, username string, now time.Time) (store.DeviceAuth, []store.Binding, error)
	da   store.DeviceAuth
	bs   []store.Binding
	err  error
	done chan struct{}
}

func newLookups(fn func(ctx context.Context, username string, now time.Time) (store.DeviceAuth, []store.Binding, error)) *lookups {
	l := &lookups{jobs: make(chan *lookupJob), quit: make(chan struct{})}
	l.pool.New = func() any { return &lookupJob{fn: fn, done: make(chan struct{}, 1)} }
	// Enough workers to keep the cores and a networked database busy.
	n := max(8, 4*runtime.GOMAXPROCS(0))
	l.wg.Add(n)
	for range n {
		go l.work()
	}
	return l
}

func (l *lookups) work() {
	defer l.wg.Done()
	for {
		select {
		case j := <-l.jobs:
			j.da, j.bs, j.err = j.fn(j.ctx, j.user, j.now)
			j.done <- struct{}{}
		case <-l.quit:
			return
		}
	}
}

// registration is the store's DeviceRegistration, run by a worker.
func (l *lookups) registration(ctx context.Context, user string, now time.Time) (store.DeviceAuth, []store.Binding, error) {
	j := l.pool.Get().(*lookupJob)
	j.ctx, j.user, j.now = ctx, user, now
	select {
	case l.jobs <- j:
	case <-ctx.Done():
		l.pool.Put(j)
		return store.DeviceAuth{}, nil, ctx.Err()
	case <-l.quit:
		l.pool.Put(j)
		return store.DeviceAuth{}, nil, errClosed
	}
	<-j.done // the worker always finishes (the store honours ctx)
	da, bs, err := j.da, j.bs, j.err
	*j = lookupJob{fn: j.fn, done: j.done}
	l.pool.Put(j)
	return da, bs, err
}

var errClosed = errors.New("registrar: closed")

// close stops the workers; later look-ups fail with errClosed.
func (l *lookups) close() {
	close(l.quit)
	l.wg.Wait()
}
