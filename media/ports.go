package media

import (
	"net"
	"sync"
	"time"
)

// portPool hands out RTP/RTCP port pairs (even RTP port, RTCP on the next
// odd port) from a configured range. A released pair rests for the
// quarantine period before it is handed out again, so that late packets of a
// finished call never reach the next one. Each pair is always in exactly one
// of four states: free, resting, warm or in use.
//
// Opening and binding a session's two sockets and closing them again cost
// the kernel more than all of a call's SIP messages together: a pair
// therefore rests with its sockets open, and after its quarantine stays
// warm (sockets open, first in line for the next session) for the reuse
// period; then its sockets are closed and it joins the free pairs. A pair
// whose sockets received anything meanwhile is not reused (see
// keptQuarantine). At most maxKept pairs keep their sockets, so that the
// kept sockets never take more than a share of the process's descriptors.
type portPool struct {
	mu         sync.Mutex
	first      int // first (even) RTP port
	pairs      int
	quarantine time.Duration
	reuse      time.Duration // how long a pair stays warm; 0: sockets are not kept
	maxKept    int           // pairs resting or warm with their sockets, at most
	now        func() time.Time
	closed     bool

	free        ring[int32]
	resting     ring[restingPair] // without sockets
	restingKept ring[restingPair] // with their sockets (keptQuarantine)
	warm        ring[restingPair] // until: when its sockets are closed
	inUse       int
}

// keptQuarantine is the rest of a pair that keeps its sockets, when
// shorter than the configured quarantine. The quarantine keeps a finished
// call's late packets from the next call; a kept pair that received
// anything while it rested or stayed warm is not reused but closed and
// put to rest for the full quarantine (Engine.listenPair), so a shorter
// rest only lets through a far end that fell silent for longer than this
// and then sent again. It bounds the sockets kept open: at a given call
// rate, two per session released in the last keptQuarantine.
const keptQuarantine = time.Second

type restingPair struct {
	pair  int32
	until time.Time
	socks *pairSockets // nil: closed
}

// pairSockets are the open sockets of a pair that is not in use.
type pairSockets struct {
	rtp, rtcp *net.UDPConn
}

func (ps *pairSockets) close() {
	ps.rtp.Close()
	ps.rtcp.Close()
}

func newPortPool(lo, hi int, quarantine, reuse time.Duration, maxKept int) *portPool {
	first := lo + lo%2
	pairs := 0
	if hi >= first+1 {
		pairs = (hi - first + 1) / 2
	}
	p := &portPool{
		first:       first,
		pairs:       pairs,
		quarantine:  max(quarantine, 0),
		reuse:       max(reuse, 0),
		maxKept:     maxKept,
		now:         time.Now,
		free:        newRing[int32](pairs),
		resting:     newRing[restingPair](pairs),
		restingKept: newRing[restingPair](pairs),
		warm:        newRing[restingPair](pairs),
	}
	for i := 0; i < pairs; i++ {
		p.free.push(int32(i))
	}
	return p
}

// take returns the RTP port of a warm pair with its open sockets, else of
// a free pair (socks nil), or false when none is available. The caller
// closes the sockets of expired warm pairs it is handed (expired).
func (p *portPool) take() (port int, socks *pairSockets, expired []*pairSockets, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	expired = p.wakeLocked()
	if w, ok := p.warm.pop(); ok {
		p.inUse++
		return p.first + 2*int(w.pair), w.socks, expired, true
	}
	i, ok := p.free.pop()
	if !ok {
		return 0, nil, expired, false
	}
	p.inUse++
	return p.first + 2*int(i), nil, expired, true
}

// release puts the pair of rtpPort to rest for the quarantine period, with
// its sockets if socks is not nil (they are closed at once if the pool
// keeps none, keeps maxKept already, or is closed).
func (p *portPool) release(rtpPort int, socks *pairSockets) {
	var drop *pairSockets
	p.mu.Lock()
	p.inUse--
	if p.reuse == 0 || p.closed || p.restingKept.len()+p.warm.len() >= p.maxKept {
		drop, socks = socks, nil
	}
	i := int32((rtpPort - p.first) / 2)
	now := p.now()
	switch {
	case socks != nil && p.quarantine > 0:
		p.restingKept.push(restingPair{pair: i, until: now.Add(min(p.quarantine, keptQuarantine)), socks: socks})
	case socks != nil:
		p.warm.push(restingPair{pair: i, until: now.Add(p.reuse), socks: socks})
	case p.quarantine > 0:
		p.resting.push(restingPair{pair: i, until: now.Add(p.quarantine)})
	default:
		p.free.push(i)
	}
	p.mu.Unlock()
	if drop != nil {
		drop.close()
	}
}

// keepsSockets reports whether a released pair's sockets are worth
// handing back (release).
func (p *portPool) keepsSockets() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.reuse > 0 && !p.closed
}

// wakeLocked moves pairs whose quarantine is over to the warm pairs (or,
// without sockets, the free ones), and warm pairs whose reuse period is
// over to the free pairs, returning their sockets for the caller to close
// outside the lock. Pairs rest and stay warm in release order, so the
// oldest is always at the head.
func (p *portPool) wakeLocked() (expired []*pairSockets) {
	now := p.now()
	for {
		r, ok := p.resting.peek()
		if !ok || r.until.After(now) {
			break
		}
		p.resting.pop()
		p.free.push(r.pair)
	}
	for {
		r, ok := p.restingKept.peek()
		if !ok || r.until.After(now) {
			break
		}
		p.restingKept.pop()
		p.warm.push(restingPair{pair: r.pair, until: r.until.Add(p.reuse), socks: r.socks})
	}
	for {
		w, ok := p.warm.peek()
		if !ok || w.until.After(now) {
			break
		}
		p.warm.pop()
		p.free.push(w.pair)
		if w.socks != nil { // nil: closed by closeAll
			expired = append(expired, w.socks)
		}
	}
	return expired
}

// reap closes the sockets of pairs no longer warm (the engine calls it
// periodically, so that they close without a next session).
func (p *portPool) reap() {
	p.mu.Lock()
	expired := p.wakeLocked()
	p.mu.Unlock()
	closeSockets(expired)
}

// closeAll closes every kept socket (Engine.Close); pairs released later
// close theirs at once.
func (p *portPool) closeAll() {
	p.mu.Lock()
	p.closed = true
	var socks []*pairSockets
	for _, q := range []*ring[restingPair]{&p.restingKept, &p.warm} {
		for n := q.len(); n > 0; n-- {
			r, _ := q.pop()
			if r.socks != nil {
				socks = append(socks, r.socks)
				r.socks = nil
			}
			q.push(r)
		}
	}
	p.mu.Unlock()
	closeSockets(socks)
}

func closeSockets(socks []*pairSockets) {
	for _, ps := range socks {
		ps.close()
	}
}

// counts reports pairs in use, resting and free (warm pairs are free).
func (p *portPool) counts() (inUse, resting, free int) {
	p.mu.Lock()
	expired := p.wakeLocked()
	inUse, resting, free = p.inUse, p.resting.len()+p.restingKept.len(), p.free.len()+p.warm.len()
	p.mu.Unlock()
	closeSockets(expired)
	return inUse, resting, free
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
