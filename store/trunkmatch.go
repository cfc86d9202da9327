package store

import (
	"context"
	"net/netip"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// trunkMatcherTTL bounds how stale the matcher may be when another node
// sharing the database changed a trunk: writes through this Store rebuild it
// on the next look-up at once; other nodes' writes are seen within this time.
const trunkMatcherTTL = 10 * time.Second

// trunkMatcher answers "which trunk sent this packet" with map look-ups
// (ip:port, then ip) and a scan of the prefixes, longest first. It is
// immutable once built; a rebuild replaces it whole.
type trunkMatcher struct {
	byAddrPort map[netip.AddrPort]*Trunk
	byAddr     map[netip.Addr]*Trunk
	prefixes   []prefixTrunk // longest prefix first
}

type prefixTrunk struct {
	p netip.Prefix
	t *Trunk
}

func newTrunkMatcher(ts []Trunk) *trunkMatcher {
	m := &trunkMatcher{byAddrPort: map[netip.AddrPort]*Trunk{}, byAddr: map[netip.Addr]*Trunk{}}
	for i := range ts {
		t := &ts[i]
		for _, src := range t.InboundSources {
			if ap, err := netip.ParseAddrPort(src); err == nil {
				m.byAddrPort[ap] = t
			} else if a, err := netip.ParseAddr(src); err == nil {
				m.byAddr[a] = t
			} else if p, err := netip.ParsePrefix(src); err == nil {
				m.prefixes = append(m.prefixes, prefixTrunk{p, t})
			}
		}
	}
	sort.SliceStable(m.prefixes, func(i, j int) bool { return m.prefixes[i].p.Bits() > m.prefixes[j].p.Bits() })
	return m
}

func (m *trunkMatcher) match(ap netip.AddrPort) (Trunk, bool) {
	a := ap.Addr().Unmap().WithZone("")
	if t, ok := m.byAddrPort[netip.AddrPortFrom(a, ap.Port())]; ok {
		return *t, true
	}
	if t, ok := m.byAddr[a]; ok {
		return *t, true
	}
	for _, pt := range m.prefixes {
		if pt.p.Contains(a) {
			return *pt.t, true
		}
	}
	return Trunk{}, false
}

// trunkCache holds the current matcher. Look-ups read an atomic pointer;
// only a rebuild takes the mutex, so concurrent INVITEs never wait on each
// other.
type trunkCache struct {
	cur atomic.Pointer[cachedMatcher]
	mu  sync.Mutex // serialises rebuilds
	gen atomic.Uint64
	now func() time.Time // nil: time.Now (a test sets a fake clock)
}

type cachedMatcher struct {
	m      *trunkMatcher
	gen    uint64
	loaded time.Time
}

func (c *trunkCache) invalidate() { c.gen.Add(1) }

func (c *trunkCache) get(ctx context.Context, load func(context.Context) (*trunkMatcher, error)) (*trunkMatcher, error) {
	now := c.now
	if now == nil {
		now = time.Now
	}
	fresh := func(cm *cachedMatcher) bool {
		return cm != nil && cm.gen == c.gen.Load() && now().Sub(cm.loaded) < trunkMatcherTTL
	}
	if cm := c.cur.Load(); fresh(cm) {
		return cm.m, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cm := c.cur.Load(); fresh(cm) {
		return cm.m, nil
	}
	// Read the generation before loading: a write landing during the load
	// bumps it again, and the next look-up reloads.
	gen := c.gen.Load()
	m, err := load(ctx)
	if err != nil {
		return nil, err
	}
	c.cur.Store(&cachedMatcher{m: m, gen: gen, loaded: now()})
	return m, nil
}
