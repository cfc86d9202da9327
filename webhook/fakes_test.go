package webhook

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"pbx/store"
)

// memStore keeps deliveries in memory, as the store's tables would.
type memStore struct {
	mu       sync.Mutex
	hooks    map[string]store.Webhook
	pending  map[string]store.WebhookDelivery
	attempts []int // RetryWebhook's counts, in order
}

func newMemStore() *memStore {
	return &memStore{hooks: map[string]store.Webhook{}, pending: map[string]store.WebhookDelivery{}}
}

func (m *memStore) EnqueueWebhook(_ context.Context, d store.WebhookDelivery) (store.WebhookDelivery, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pending[d.ID] = d
	return d, nil
}

func (m *memStore) DueWebhooks(_ context.Context, now time.Time, limit int) ([]store.WebhookDelivery, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.WebhookDelivery
	for _, d := range m.pending {
		if !d.NextAt.After(now) && len(out) < limit {
			out = append(out, d)
		}
	}
	return out, nil
}

func (m *memStore) NextWebhookAt(context.Context) (time.Time, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var next time.Time
	for _, d := range m.pending {
		if next.IsZero() || d.NextAt.Before(next) {
			next = d.NextAt
		}
	}
	return next, !next.IsZero(), nil
}

func (m *memStore) ClaimWebhook(_ context.Context, d store.WebhookDelivery, until time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.pending[d.ID]
	if !ok || !cur.NextAt.Equal(d.NextAt) {
		return false, nil
	}
	cur.NextAt = until
	m.pending[d.ID] = cur
	return true, nil
}

func (m *memStore) RetryWebhook(_ context.Context, id string, attempts int, next time.Time, lastError string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.pending[id]
	if !ok {
		return store.ErrNotFound
	}
	d.Attempts, d.NextAt, d.LastError = attempts, next, lastError
	m.pending[id] = d
	m.attempts = append(m.attempts, attempts)
	return nil
}

func (m *memStore) DeleteWebhook(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.pending[id]; !ok {
		return store.ErrNotFound
	}
	delete(m.pending, id)
	return nil
}

func (m *memStore) TenantWebhook(_ context.Context, tenantID string) (store.Webhook, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w, ok := m.hooks[tenantID]
	if !ok {
		return store.Webhook{}, store.ErrNotFound
	}
	return w, nil
}

func (m *memStore) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.pending)
}

// fakeClock moves only when the test advances it; each wait the sender
// starts is announced on waits.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
	waits   chan time.Duration
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock(now time.Time) *fakeClock {
	return &fakeClock{now: now, waits: make(chan time.Duration, 64)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, waiter{c.now.Add(d), ch})
	c.mu.Unlock()
	c.waits <- d
	return ch
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.waiters = slices.DeleteFunc(c.waiters, func(w waiter) bool {
		if !w.at.After(c.now) {
			w.ch <- c.now
			return true
		}
		return false
	})
}

// waitFor waits until the sender waits for d.
func (c *fakeClock) waitFor(t *testing.T, d time.Duration) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case got := <-c.waits:
			if got == d {
				return
			}
		case <-deadline:
			t.Fatalf("the sender never waited %v", d)
		}
	}
}
