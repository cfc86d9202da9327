package media

import (
	"sync"
	"time"
)

// portPool hands out RTP/RTCP port pairs (even RTP port, RTCP on the next
// odd port) from a configured range. A released pair rests for the
// quarantine period before it is handed out again, so that late packets of a
// finished call never reach the next one. Each pair is always in exactly one
// of three states: free, resting or in use.
type portPool struct {
	mu         sync.Mutex
	first      int // first (even) RTP port
	pairs      int
	quarantine time.Duration
	now        func() time.Time

	free    ring[int32]
	resting ring[restingPair]
	inUse   int
}

type restingPair struct {
	pair  int32
	until time.Time
}

func newPortPool(min, max int, quarantine time.Duration) *portPool {
	first := min + min%2
	pairs := 0
	if max >= first+1 {
		pairs = (max - first + 1) / 2
	}
	p := &portPool{
		first:      first,
		pairs:      pairs,
		quarantine: quarantine,
		now:        time.Now,
		free:       newRing[int32](pairs),
		resting:    newRing[restingPair](pairs),
	}
	for i := 0; i < pairs; i++ {
		p.free.push(int32(i))
	}
	return p
}

// take returns the RTP port of a free pair, or false when none is free.
func (p *portPool) take() (int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.wakeLocked()
	i, ok := p.free.pop()
	if !ok {
		return 0, false
	}
	p.inUse++
	return p.first + 2*int(i), true
}

// release puts the pair of rtpPort to rest for the quarantine period.
func (p *portPool) release(rtpPort int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inUse--
	i := int32((rtpPort - p.first) / 2)
	if p.quarantine <= 0 {
		p.free.push(i)
		return
	}
	p.resting.push(restingPair{pair: i, until: p.now().Add(p.quarantine)})
}

// wakeLocked moves pairs whose quarantine is over back to the free list.
// Pairs rest in release order, so the oldest is always at the head.
func (p *portPool) wakeLocked() {
	now := p.now()
	for {
		r, ok := p.resting.peek()
		if !ok || r.until.After(now) {
			return
		}
		p.resting.pop()
		p.free.push(r.pair)
	}
}

// counts reports pairs in use, resting and free.
func (p *portPool) counts() (inUse, resting, free int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.wakeLocked()
	return p.inUse, p.resting.len(), p.free.len()
}

// ring is a fixed-capacity FIFO queue.
type ring[T any] struct {
	buf        []T
	head, size int
}

func newRing[T any](capacity int) ring[T] { return ring[T]{buf: make([]T, capacity)} }

func (r *ring[T]) len() int { return r.size }

func (r *ring[T]) push(v T) {
	if r.size == len(r.buf) {
		panic("media: port ring overflow") // every pair is in exactly one queue
	}
	r.buf[(r.head+r.size)%len(r.buf)] = v
	r.size++
}

func (r *ring[T]) peek() (T, bool) {
	var zero T
	if r.size == 0 {
		return zero, false
	}
	return r.buf[r.head], true
}

func (r *ring[T]) pop() (T, bool) {
	v, ok := r.peek()
	if ok {
		r.head = (r.head + 1) % len(r.buf)
		r.size--
	}
	return v, ok
}
