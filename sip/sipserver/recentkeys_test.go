package sipserver

import (
	"testing"
	"time"
)

// A key is in the set for its ttl, counted from its last Add; expire
// drops what has expired and, once the set is empty, holds nothing.
func TestRecentKeysExpire(t *testing.T) {
	r := NewRecentKeys(10 * time.Second)
	var now time.Duration
	r.clock = func() time.Duration { return now } // guarded by r.mu
	set := func(d time.Duration) {
		r.mu.Lock()
		now = d
		r.mu.Unlock()
	}
	r.Add("a")
	r.Add("")
	set(4 * time.Second)
	r.Add("b")
	if !r.Has("a") || !r.Has("b") || r.Has("c") || r.Has("") {
		t.Fatalf("at 4s: a %v b %v c %v empty %v", r.Has("a"), r.Has("b"), r.Has("c"), r.Has(""))
	}
	set(10 * time.Second)
	if r.Has("a") || !r.Has("b") {
		t.Fatalf("at 10s: a %v (expired), b %v", r.Has("a"), r.Has("b"))
	}
	r.expire()
	if n := r.Len(); n != 1 {
		t.Fatalf("after the first expiry %d keys held, want 1", n)
	}
	r.Add("b") // again: now until 20s
	set(14 * time.Second)
	r.expire()
	if !r.Has("b") || r.Len() != 1 {
		t.Fatalf("at 14s: b %v, %d keys; b was added again at 10s", r.Has("b"), r.Len())
	}
	set(20 * time.Second)
	r.expire()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.keys) != 0 || r.order != nil || r.timer != nil {
		t.Fatalf("at 20s: %d keys, order %v, timer %v; want nothing held", len(r.keys), r.order, r.timer)
	}
}
