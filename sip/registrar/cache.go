package registrar

import (
	"context"
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"pbx/store"
)

// GenerationStore is the optional Store method that lets the registrar keep
// what a REGISTER reads (see store.Store.RegistrationGeneration): a counter
// of the writes, other than the registrar's own binding writes, that change
// a device, its licence, its tenant or its bindings; ok=false forbids
// keeping anything (a database other nodes write to).
type GenerationStore interface {
	RegistrationGeneration() (gen uint64, ok bool)
}

// regCache keeps, per digest username, the device with its licence and
// tenant and the device's bindings as the last REGISTER left them, so that
// the next REGISTER of the device (its refresh, and the authenticated
// request after a challenge) reads nothing from the database: that read
// was a third of a REGISTER's CPU.
//
// It stays exactly the database's on this node:
//   - an entry is used only while the store's generation is the one it was
//     read or written under: any other write to the device, its licence or
//     tenant, or its bindings (the API, a push service) makes every entry
//     stale, and the next REGISTER of each reads the database again;
//   - expired bindings are left out by time, as the database query does, so
//     the expiry sweep need not touch the cache;
//   - the registrar's own changes are applied to the entry when they are
//     queued for the group commit, in the order of the commits, under the
//     username's lock (so two REGISTERs of one device never interleave
//     between reading the entry and queueing their changes); an entry whose
//     commit fails is dropped;
//   - a database read never overtakes the username's queued changes: a
//     miss waits until none of its lock's changes are pending.
type regCache struct {
	gen   func() (uint64, bool)
	seed  maphash.Seed
	mu    sync.Mutex
	m     map[string]*regEntry
	locks [cacheLocks]userLock
}

// cacheLocks is the number of username locks: many, so that the misses of
// a storm (every device's first REGISTER) seldom find one with changes
// pending, which they would wait for.
const cacheLocks = 1 << 14

type regEntry struct {
	gen      uint64
	da       *store.DeviceAuth // shared by the entries of one read: never changed
	bindings []store.Binding   // never changed once stored: readers copy
}

// userLock serialises the REGISTERs of the usernames that hash to it.
type userLock struct {
	sync.Mutex
	pending atomic.Int32 // changes queued and not yet committed
}

func newRegCache(st Store) *regCache {
	gs, ok := st.(GenerationStore)
	if !ok {
		return nil
	}
	return &regCache{gen: gs.RegistrationGeneration, seed: maphash.MakeSeed(), m: map[string]*regEntry{}}
}

// held is the registration state of one REGISTER between its lookup and
// the queueing of its changes: the username's lock is held meanwhile.
type held struct {
	user  string
	lock  *userLock
	gen   uint64
	cache bool              // the generation allows keeping what the request leaves
	da    *store.DeviceAuth // as read, for the entry the request leaves
}

func (h *held) unlock() {
	if h.lock != nil {
		h.lock.Unlock()
		h.lock = nil
	}
}

// load returns the device and its live bindings (a copy the caller may
// change) and leaves the username locked in h; barrier waits until the
// changes queued so far are committed.
func (c *regCache) load(ctx context.Context, st Store, user string, now time.Time, barrier func(), h *held) (store.DeviceAuth, []store.Binding, error) {
	l := &c.locks[maphash.String(c.seed, user)%cacheLocks]
	for {
		l.Lock()
		gen, ok := c.gen()
		if !ok {
			l.Unlock()
			return st.DeviceRegistration(ctx, user, now)
		}
		*h = held{user: user, lock: l, gen: gen, cache: true}
		c.mu.Lock()
		e := c.m[user]
		c.mu.Unlock()
		if e != nil && e.gen == gen {
			h.da = e.da
			return *e.da, live(e.bindings, now), nil
		}
		if l.pending.Load() == 0 {
			break
		}
		l.Unlock()
		barrier()
	}
	da, bs, err := st.DeviceRegistration(ctx, user, now)
	if err != nil {
		h.unlock()
		return da, bs, err
	}
	h.da = &da
	c.put(user, h.gen, h.da, bs)
	return da, live(bs, now), nil
}

// live copies the bindings unexpired at now (compared in milliseconds, as
// the store does).
func live(bs []store.Binding, now time.Time) []store.Binding {
	out := make([]store.Binding, 0, len(bs)+1)
	for _, b := range bs {
		if b.ExpiresAt.UnixMilli() > now.UnixMilli() {
			out = append(out, b)
		}
	}
	return out
}

func (c *regCache) put(user string, gen uint64, da *store.DeviceAuth, bs []store.Binding) {
	c.mu.Lock()
	c.m[user] = &regEntry{gen: gen, da: da, bindings: bs}
	c.mu.Unlock()
}

func (c *regCache) drop(user string) {
	c.mu.Lock()
	delete(c.m, user)
	c.mu.Unlock()
}

// sweep forgets the entries that are stale or hold no live binding (a
// device deleted, or gone silent), so the cache holds the devices that are
// registered and no more.
func (c *regCache) sweep(now time.Time) {
	gen, ok := c.gen()
	c.mu.Lock()
	defer c.mu.Unlock()
	for user, e := range c.m {
		if !ok || e.gen != gen || len(live(e.bindings, now)) == 0 {
			delete(c.m, user)
		}
	}
}
