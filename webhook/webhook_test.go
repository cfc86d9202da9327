package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"pbx/store"
)

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

// More deliveries due than one look at the store takes are all made at
// once, without waiting for the next poll.
func TestManyDueDeliveredAtOnce(t *testing.T) {
	var mu sync.Mutex
	got := 0
	all := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if got++; got == batch+5 {
			close(all)
		}
	}))
	defer srv.Close()
	st := newMemStore()
	st.hooks["ten_a"] = store.Webhook{URL: srv.URL, Secret: "k"}
	clock := newFakeClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	s := &Sender{Store: st, Clock: clock, Client: srv.Client(), Poll: time.Hour}
	for range batch + 5 {
		if err := s.Send(context.Background(), "ten_a", "emergency_call", nil); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	select {
	case <-all:
	case <-time.After(20 * time.Second):
		t.Fatalf("delivered %d of %d without the clock moving", got, batch+5)
	}
}

// The default client does not post to loopback, private or link-local
// addresses unless allowed: the attempt fails and is retried later.
func TestPrivateAddressRefused(t *testing.T) {
	hits := make(chan struct{}, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits <- struct{}{} }))
	defer srv.Close()
	for _, allow := range []bool{false, true} {
		st := newMemStore()
		st.hooks["ten_a"] = store.Webhook{URL: srv.URL, Secret: "k"}
		clock := newFakeClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
		s := &Sender{Store: st, Clock: clock, AllowPrivate: allow}
		if err := s.Send(context.Background(), "ten_a", "emergency_call", nil); err != nil {
			t.Fatal(err)
		}
		s.deliverDue(context.Background())
		if allow {
			if st.count() != 0 || len(hits) != 1 {
				t.Fatalf("allowed: pending %d, hits %d", st.count(), len(hits))
			}
			continue
		}
		d, _ := st.DueWebhooks(context.Background(), clock.Now().Add(time.Hour), 1)
		if len(hits) != 0 || len(d) != 1 || !strings.Contains(d[0].LastError, "not allowed") {
			t.Fatalf("private address reached: hits %d, pending %+v", len(hits), d)
		}
	}
	for ip, want := range map[string]bool{"8.8.8.8": true, "2a00:1450::1": true, "127.0.0.1": false, "10.1.2.3": false, "192.168.1.1": false,
		"169.254.169.254": false, "::1": false, "fd00::1": false, "100.64.0.1": false, "0.0.0.0": false} {
		if got := publicAddr(netip.MustParseAddr(ip)); got != want {
			t.Errorf("%s public: %v", ip, got)
		}
	}
}
