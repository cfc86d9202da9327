package store

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// readCache keeps the results of the reads every call makes (the caller's
// account, the callee's licence and bindings, its tenant, a hunt group)
// until a table they were read from is written: SQLite in WAL mode drops a
// connection's page cache whenever anything was written, so with call
// records written several hundred times a second these reads cost more
// than the rest of a call's signalling. Entries are checked against the
// tables' write counts (tablegen.go), so a change made through any path
// (the REST API, an expiry sweep, a REGISTER) is seen by the next read.
//
// It is on for SQLite only: on PostgreSQL other nodes write too, and this
// process cannot see their writes.
type readCache struct {
	gens *tableGens // nil: off
	m    sync.Map   // key -> cacheEntry
	n    atomic.Int64
}

type cacheEntry struct {
	sum uint64
	v   any
	err error
}

// maxCacheEntries bounds the cache: unknown usernames from a scanner are
// cached too (as not found); past the bound it starts again empty.
const maxCacheEntries = 100_000

// cached returns load's result for key, read from tables, from the cache
// while none of those tables was written. Only results and ErrNotFound are
// kept; clone copies what callers could modify (slices, maps).
func cached[V any](c *readCache, key string, tables []string, clone func(V) V, load func() (V, error)) (V, error) {
	if c.gens == nil {
		return load()
	}
	sum := c.gens.sum(tables)
	if e, ok := c.m.Load(key); ok {
		if e := e.(cacheEntry); e.sum == sum {
			v := e.v.(V)
			if clone != nil && e.err == nil {
				v = clone(v)
			}
			return v, e.err
		}
	}
	v, err := load()
	if err != nil && !errors.Is(err, ErrNotFound) {
		return v, err
	}
	kept := v
	if clone != nil && err == nil {
		kept = clone(v)
	}
	if _, loaded := c.m.Swap(key, cacheEntry{sum: sum, v: kept, err: err}); !loaded && c.n.Add(1) > maxCacheEntries {
		c.m.Clear()
		c.n.Store(0)
	}
	return v, err
}

var (
	tenantTables     = []string{"tenants"}
	userTables       = []string{"users"}
	huntGroupTables  = []string{"hunt_groups", "hunt_group_members"}
	trunkTables      = []string{"trunks"}
	deviceAuthTables = []string{"devices", "users", "tenants"}
	bindingTables    = []string{"registrations", "devices"}
)

func (s *Store) cachedTenant(ctx context.Context, id string) (Tenant, error) {
	return cached(&s.cache, "tenant\x00"+id, tenantTables, nil, func() (Tenant, error) {
		return scanTenant(s.r.QueryRowContext(ctx, `SELECT `+tenantCols+` FROM tenants WHERE id = ?`, id))
	})
}

func (s *Store) cachedUser(ctx context.Context, tenantID, id string) (User, error) {
	return cached(&s.cache, "user\x00"+tenantID+"\x00"+id, userTables, nil, func() (User, error) {
		return scanUser(s.r.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE tenant_id = ? AND id = ?`, tenantID, id))
	})
}

func (s *Store) cachedUserByExtension(ctx context.Context, tenantID, ext string) (User, error) {
	return cached(&s.cache, "userext\x00"+tenantID+"\x00"+ext, userTables, nil, func() (User, error) {
		return scanUser(s.r.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE tenant_id = ? AND extension = ?`, tenantID, ext))
	})
}

func cloneHuntGroup(g HuntGroup) HuntGroup {
	g.Members = slices.Clone(g.Members)
	if g.Queue != nil {
		q := *g.Queue
		g.Queue = &q
	}
	return g
}

func cloneTrunk(t Trunk) Trunk {
	t.InboundSources = slices.Clone(t.InboundSources)
	return t
}

func cloneDeviceAuth(a DeviceAuth) DeviceAuth {
	a.Device.ProvPasswordHash = slices.Clone(a.Device.ProvPasswordHash)
	return a
}

// bindingsAt are the bindings unexpired at a time.
type bindingsAt struct {
	at time.Time
	bs []Binding
}

func cloneBindingsAt(b bindingsAt) bindingsAt { b.bs = slices.Clone(b.bs); return b }

// cachedBindings keeps a licence's bindings unexpired at the time of the
// read; a later read drops those that expired since, which is what the
// database would answer as long as nothing was written. A read for an
// earlier time (an injected clock) goes to the database.
func (s *Store) cachedBindings(ctx context.Context, userID string, now time.Time, load func(time.Time) ([]Binding, error)) ([]Binding, error) {
	b, err := cached(&s.cache, "bindings\x00"+userID, bindingTables, cloneBindingsAt, func() (bindingsAt, error) {
		bs, err := load(now)
		return bindingsAt{at: now, bs: bs}, err
	})
	if err != nil {
		return nil, err
	}
	if b.at.After(now) {
		return load(now)
	}
	bs := slices.DeleteFunc(b.bs, func(b Binding) bool { return !b.ExpiresAt.After(now) })
	if len(bs) == 0 {
		return nil, nil // as the database answers
	}
	return bs, nil
}
