package provisioning

import (
	"math"
	"sync"
	"time"
)

// RateLimit configures the per-source-address token bucket.
//
// The defaults allow an office of a few dozen phones behind one NAT address to
// boot at once (each phone makes two to six requests, doubled by digest
// challenges) while bounding what one address can try.
type RateLimit struct {
	// PerSecond is the sustained rate of requests per source address
	// (default 5). A negative value disables rate limiting.
	PerSecond float64
	// Burst is the bucket size (default 120).
	Burst int
}

func (r RateLimit) withDefaults() RateLimit {
	if r.PerSecond == 0 {
		r.PerSecond = 5
	}
	if r.Burst <= 0 {
		r.Burst = 120
	}
	return r
}

// limiter is a map of token buckets keyed by source address. Buckets that
// have refilled completely carry no information and are swept periodically,
// so memory stays proportional to the addresses seen in the last few minutes.
type limiter struct {
	rate  float64
	burst float64
	now   func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(cfg RateLimit, now func() time.Time) *limiter {
	if cfg.PerSecond < 0 {
		return nil
	}
	cfg = cfg.withDefaults()
	return &limiter{rate: cfg.PerSecond, burst: float64(cfg.Burst), now: now, buckets: map[string]*bucket{}}
}

// allow takes a token for key. When none is left it returns false and how
// long until one is available.
func (l *limiter) allow(key string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(l.burst, b.tokens+el*l.rate)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	return false, wait
}

func (l *limiter) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < time.Minute {
		return
	}
	l.lastSweep = now
	full := time.Duration(l.burst / l.rate * float64(time.Second))
	for k, b := range l.buckets {
		if now.Sub(b.last) > full {
			delete(l.buckets, k)
		}
	}
}
