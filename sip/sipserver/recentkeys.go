package sipserver

import (
	"hash/maphash"
	"sync"
	"time"
)

// RecentKeys is a set of strings that each leave it ttl after they were
// added: one timer for the whole set, no goroutine. It stands in for
// transactions kept only to absorb retransmissions: about 40 bytes a key
// (a 64-bit hash of it, not the string) instead of a request, its
// response and their state. Two keys of the set share a hash once in
// 2^64 pairs: far too rare to matter for what absorbs retransmissions.
type RecentKeys struct {
	ttl   time.Duration
	seed  maphash.Seed
	clock func() time.Duration // time since the set was made

	mu    sync.Mutex
	keys  map[uint64]time.Duration // hash -> when it leaves
	order []recentKey              // in the order added, so by expiry, from head
	head  int
	timer *time.Timer // set while order is not empty
}

type recentKey struct {
	hash    uint64
	expires time.Duration
}

// NewRecentKeys returns an empty set whose keys stay for ttl.
func NewRecentKeys(ttl time.Duration) *RecentKeys {
	start := time.Now()
	return &RecentKeys{ttl: ttl, seed: maphash.MakeSeed(), clock: func() time.Duration { return time.Since(start) },
		keys: map[uint64]time.Duration{}}
}

// Add puts key in the set for ttl ("" is ignored).
func (r *RecentKeys) Add(key string) {
	if key == "" {
		return
	}
	h := maphash.String(r.seed, key)
	r.mu.Lock()
	defer r.mu.Unlock()
	exp := r.clock() + r.ttl
	r.keys[h] = exp
	r.order = append(r.order, recentKey{h, exp})
	if r.timer == nil {
		r.timer = time.AfterFunc(r.ttl, r.expire)
	}
}

// Has reports whether key was added less than ttl ago.
func (r *RecentKeys) Has(key string) bool {
	if key == "" {
		return false
	}
	h := maphash.String(r.seed, key)
	r.mu.Lock()
	defer r.mu.Unlock()
	exp, ok := r.keys[h]
	return ok && r.clock() < exp
}

// Len is the number of keys held (some may have expired but not yet been
// dropped).
func (r *RecentKeys) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.keys)
}

// expire drops the keys whose time has come and sets the timer for the
// next one, at most once a second (a key may be held that much longer;
// Has no longer sees it).
func (r *RecentKeys) expire() {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.clock()
	i := r.head
	for ; i < len(r.order) && r.order[i].expires <= now; i++ {
		k := r.order[i]
		if r.keys[k.hash] == k.expires { // not added again since
			delete(r.keys, k.hash)
		}
	}
	if i == len(r.order) {
		// Empty: a new map and no array, so that a burst of calls leaves
		// nothing behind once it has passed (maps do not shrink).
		r.order, r.head, r.keys = nil, 0, map[uint64]time.Duration{}
		if r.timer != nil {
			r.timer.Stop()
			r.timer = nil
		}
		return
	}
	r.head = i
	if r.head > len(r.order)/2 {
		r.order = append([]recentKey(nil), r.order[r.head:]...)
		r.head = 0
	}
	if r.timer != nil {
		r.timer.Reset(max(r.order[r.head].expires-now, time.Second))
	}
}
