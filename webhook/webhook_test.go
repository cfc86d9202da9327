package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
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

type hit struct {
	header http.Header
	body   []byte
}

// A delivery that the endpoint first answers 500 is retried after the
// back-off, signed again, with the same id and body; once delivered it
// leaves the queue.
func TestRetriedAfterFailure(t *testing.T) {
	hits := make(chan hit, 8)
	var n int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hits <- hit{r.Header.Clone(), b}
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		if first {
			w.WriteHeader(500)
		}
	}))
	defer srv.Close()
	st := newMemStore()
	st.hooks["ten_a"] = store.Webhook{URL: srv.URL + "/hook", Secret: "s3cret", SecretSet: true}
	clock := newFakeClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	s := &Sender{Store: st, Clock: clock, Client: srv.Client(), Backoff: func(n int) time.Duration { return time.Duration(n) * time.Minute }, Poll: time.Hour}
	s.Init()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	defer func() { cancel(); <-done }()

	if err := s.Send(ctx, "ten_a", "emergency_call", map[string]string{"number": "112"}); err != nil {
		t.Fatal(err)
	}
	first := next(t, hits)
	if err := Verify("s3cret", first.header, first.body, clock.Now(), 5*time.Minute); err != nil {
		t.Fatalf("first attempt: %v", err)
	}
	var payload Payload
	if err := json.Unmarshal(first.body, &payload); err != nil || payload.Event != "emergency_call" || payload.TenantID != "ten_a" || payload.ID == "" {
		t.Fatalf("payload %s: %v", first.body, err)
	}
	clock.waitFor(t, time.Minute)
	clock.advance(time.Minute)
	second := next(t, hits)
	if err := Verify("s3cret", second.header, second.body, clock.Now(), 5*time.Minute); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if string(second.body) != string(first.body) || second.header.Get(HeaderDelivery) != payload.ID || second.header.Get(HeaderEvent) != "emergency_call" {
		t.Fatalf("retry differs: %s %v", second.body, second.header)
	}
	if second.header.Get(HeaderTimestamp) == first.header.Get(HeaderTimestamp) {
		t.Fatal("the retry was not signed anew")
	}
	clock.waitFor(t, time.Hour) // back to polling: nothing pending
	if st.count() != 0 || !slices.Equal(st.attempts, []int{1}) {
		t.Fatalf("pending %d, retries %v", st.count(), st.attempts)
	}
}

// A delivery queued before a restart is made by the next sender; one
// that keeps failing is given up after MaxAttempts; a tenant without a
// webhook queues nothing.
func TestPendingSurvivesRestartAndIsGivenUp(t *testing.T) {
	var hits sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(503)
		hits.Done()
	}))
	defer srv.Close()
	st := newMemStore()
	st.hooks["ten_a"] = store.Webhook{URL: srv.URL, Secret: "k"}
	st.hooks["ten_b"] = store.Webhook{}
	clock := newFakeClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	first := &Sender{Store: st, Clock: clock}
	if err := first.Send(context.Background(), "ten_a", "emergency_call", nil); err != nil {
		t.Fatal(err)
	}
	if err := first.Send(context.Background(), "ten_b", "emergency_call", nil); err != nil || st.count() != 1 {
		t.Fatalf("tenant without webhook: %v, %d pending", err, st.count())
	}
	if err := first.Send(context.Background(), "ten_missing", "emergency_call", nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown tenant: %v", err)
	}
	// The first sender never ran ("crashed"); a new one delivers.
	hits.Add(3)
	s := &Sender{Store: st, Clock: clock, Client: srv.Client(), MaxAttempts: 3, Backoff: func(int) time.Duration { return time.Second }, Poll: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for range 2 {
		clock.waitFor(t, time.Second)
		clock.advance(time.Second)
	}
	clock.waitFor(t, time.Hour)
	hits.Wait()
	if st.count() != 0 || !slices.Equal(st.attempts, []int{1, 2}) {
		t.Fatalf("pending %d, retries %v", st.count(), st.attempts)
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(1700000000, 0)
	body := []byte(`{"x":1}`)
	h := http.Header{}
	h.Set(HeaderTimestamp, "1700000000")
	h.Set(HeaderSignature, Sign("k", 1700000000, body))
	if err := Verify("k", h, body, now, time.Minute); err != nil {
		t.Fatal(err)
	}
	for name, check := range map[string]func() error{
		"wrong secret": func() error { return Verify("other", h, body, now, time.Minute) },
		"changed body": func() error { return Verify("k", h, []byte(`{"x":2}`), now, time.Minute) },
		"replayed":     func() error { return Verify("k", h, body, now.Add(time.Hour), time.Minute) },
	} {
		if err := check(); !errors.Is(err, ErrSignature) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// HMAC-SHA256("key", "1.body"), as computed elsewhere.
	if got := Sign("key", 1, []byte("body")); got != "sha256=91b5374b153842ad05b2c4eab9349b8321b14703165bd3fb8b034dfb8be98ae5" {
		t.Fatalf("signature %q", got)
	}
}

func TestDefaultBackoff(t *testing.T) {
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second}
	for i, w := range want {
		if got := DefaultBackoff(i + 1); got != w {
			t.Errorf("attempt %d: %v, want %v", i+1, got, w)
		}
	}
	if got := DefaultBackoff(40); got != 4*time.Hour {
		t.Errorf("cap: %v", got)
	}
}

func next(t *testing.T, ch chan hit) hit {
	t.Helper()
	select {
	case h := <-ch:
		return h
	case <-time.After(20 * time.Second):
		t.Fatal("no delivery")
		return hit{}
	}
}
