// Package workpool runs functions on goroutines that are kept and reused.
//
// A goroutine starts with a small stack and grows it by copying: a SIP
// handler or a call's program, which runs deep (parsing, the store, the
// media engine), pays several copies on every new goroutine, and under a
// high call rate that was a tenth of the CPU. A worker of the pool keeps
// the stack it grew for the next function, and starting one costs a
// channel handoff instead of a goroutine creation. Idle workers end after
// an idle timeout, and all of them with Close.
package workpool

import (
	"sync"
	"time"
)

// Pool is a set of reusable goroutines, made by New. A nil *Pool runs each
// function on a new goroutine (Go) or on the caller's (Run).
type Pool struct {
	idleTimeout time.Duration

	mu     sync.Mutex
	idle   []*worker // most recently used last: its stack is the warmest
	closed bool
	wg     sync.WaitGroup
}

type worker struct {
	jobs chan job
}

type job struct {
	f    func()
	done chan struct{} // Run: closed when f has returned
}

// New returns a pool whose workers end after idleTimeout without work.
func New(idleTimeout time.Duration) *Pool {
	return &Pool{idleTimeout: idleTimeout}
}

// Go runs f on a worker, without waiting. After Close, f runs on a new
// goroutine of its own (work handed over while closing is never lost).
func (p *Pool) Go(f func()) {
	if p == nil {
		go f()
		return
	}
	p.hand(job{f: f})
}

// Run runs f on a worker and returns once f has returned.
func (p *Pool) Run(f func()) {
	if p == nil {
		f()
		return
	}
	done := make(chan struct{})
	p.hand(job{f: f, done: done})
	<-done
}

func (p *Pool) hand(j job) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		w.jobs <- j
		return
	}
	if p.closed {
		p.mu.Unlock()
		go j.run()
		return
	}
	p.wg.Add(1)
	p.mu.Unlock()
	go p.work(&worker{jobs: make(chan job, 1)}, j)
}

func (j job) run() {
	defer func() {
		if j.done != nil {
			close(j.done)
		}
	}()
	j.f()
}

// work runs jobs until the worker has been idle for the idle timeout or
// the pool closes.
func (p *Pool) work(w *worker, j job) {
	defer p.wg.Done()
	timer := time.NewTimer(p.idleTimeout)
	defer timer.Stop()
	for {
		j.run()
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return
		}
		p.idle = append(p.idle, w)
		p.mu.Unlock()
		timer.Reset(p.idleTimeout)
		var ok bool
		select {
		case j, ok = <-w.jobs:
		case <-timer.C:
			if p.retire(w) {
				return
			}
			// Taken from the idle list as the timer fired (by a caller,
			// whose job is on its way, or by Close).
			j, ok = <-w.jobs
		}
		if !ok {
			return // closed by Close
		}
	}
}

// retire removes w from the idle list; false if it was no longer there.
func (p *Pool) retire(w *worker) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, x := range p.idle {
		if x == w {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			return true
		}
	}
	return false
}

// Close ends the idle workers and waits for the busy ones to finish their
// function. Functions handed to the pool afterwards run on goroutines of
// their own.
func (p *Pool) Close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.closed = true
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, w := range idle {
		close(w.jobs)
	}
	p.wg.Wait()
}
