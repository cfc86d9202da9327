package registrar

import (
	"sync"
)

// workers run the REGISTER handlers on long-lived goroutines. sipgo
// handles each request on a new goroutine, whose stack starts small: a
// REGISTER's work (digest, the SQLite driver's deep call chains, the
// answer) grew it by copying several times per request, which cost about a
// seventh of a REGISTER's CPU. A worker's stack, once grown, stays grown.
// The workers also bound how many REGISTERs are worked on at once; the
// others wait their turn in the order they came.
type workers struct {
	jobs chan *job
	quit chan struct{}
	wg   sync.WaitGroup
	pool sync.Pool // *job
}

type job struct {
	fn   func()
	done chan struct{}
}

// numWorkers is enough for the database's connections and the REGISTERs
// waiting for a group commit of their bindings.
const numWorkers = 128

func newWorkers() *workers {
	w := &workers{jobs: make(chan *job), quit: make(chan struct{})}
	w.pool.New = func() any { return &job{done: make(chan struct{}, 1)} }
	w.wg.Add(numWorkers)
	for range numWorkers {
		go w.work()
	}
	return w
}

func (w *workers) work() {
	defer w.wg.Done()
	for {
		select {
		case j := <-w.jobs:
			j.fn()
			j.done <- struct{}{}
		case <-w.quit:
			return
		}
	}
}

// do runs fn on a worker and returns when it has run; once the workers
// are stopped, it runs fn on the calling goroutine.
func (w *workers) do(fn func()) {
	j := w.pool.Get().(*job)
	j.fn = fn
	select {
	case w.jobs <- j:
		<-j.done
	case <-w.quit:
		fn()
	}
	j.fn = nil
	w.pool.Put(j)
}

// close stops the workers once their current jobs are done.
func (w *workers) close() {
	close(w.quit)
	w.wg.Wait()
}
