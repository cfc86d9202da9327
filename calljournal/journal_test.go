package calljournal

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"pbx/store"
)

func openStore(t *testing.T) (*store.Store, store.Tenant) {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{Path: filepath.Join(t.TempDir(), "pbx.db"), SecretKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ten, err := st.CreateTenant(context.Background(), store.Tenant{Name: "A", Domain: "a.test"})
	if err != nil {
		t.Fatal(err)
	}
	return st, ten
}

// hookStore runs during before each write (a call ending while a batch is
// written) and can fail writes.
type hookStore struct {
	*store.Store
	during func()
	fail   atomic.Bool
}

func (h *hookStore) WriteJournal(ctx context.Context, b store.JournalBatch) error {
	if h.during != nil {
		h.during()
		h.during = nil
	}
	if h.fail.Load() {
		return errors.New("disk full")
	}
	return h.Store.WriteJournal(ctx, b)
}

func TestJournalRows(t *testing.T) {
	st, ten := openStore(t)
	ctx := context.Background()
	clock := time.UnixMilli(1767225600000).UTC()
	h := &hookStore{Store: st}
	j := New(h, "n1", func() time.Time { return clock }, nil)
	var answer atomic.Int64
	entry := func(id string) store.JournalEntry {
		return store.JournalEntry{CallID: id, TenantID: ten.ID, Caller: "201", Callee: "202", Origin: "device", Start: clock}
	}
	j.Begin(entry("a"), func() time.Time {
		if ms := answer.Load(); ms != 0 {
			return time.UnixMilli(ms)
		}
		return time.Time{}
	})
	j.Begin(entry("b"), nil)
	j.Begin(entry("short"), nil)
	j.End("short", true) // ended before any flush: never written
	j.Begin(store.JournalEntry{CallID: "no-tenant", Start: clock}, nil)
	// "b" ends while the batch that writes it is on its way.
	h.during = func() { j.End("b", true) }
	if err := j.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := st.JournalSize(ctx, "n1"); n != 2 {
		t.Fatalf("after the first flush: %d rows, want 2 (a, b)", n)
	}
	// A failed write loses nothing: the next one does it.
	h.fail.Store(true)
	answer.Store(clock.Add(5 * time.Second).UnixMilli())
	if err := j.Flush(ctx); err == nil {
		t.Fatal("failing store: no error")
	}
	h.fail.Store(false)
	clock = clock.Add(20 * time.Second)
	if err := j.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := st.JournalSize(ctx, "n1"); n != 1 {
		t.Fatalf("after b's end: %d rows, want 1", n)
	}
	if j.Live() != 1 {
		t.Fatalf("live %d, want 1", j.Live())
	}
	// The node "crashes" here: a new journal recovers a.
	j2 := New(st, "n1", func() time.Time { return clock.Add(time.Hour) }, nil)
	cdrs, err := j2.Recover(ctx)
	if err != nil || len(cdrs) != 1 {
		t.Fatalf("recovered %+v %v", cdrs, err)
	}
	c := cdrs[0]
	if c.CallID != "a" || c.BillableSeconds != 15 || c.HangupCause != store.CauseSystemFailure || !c.End.Equal(clock) {
		t.Errorf("record %+v: want call a, 15 s billed, ended at the last heartbeat %v", c, clock)
	}
}

// TestRunFlushesOnStop: a clean stop leaves no row behind.
func TestRunFlushesOnStop(t *testing.T) {
	st, ten := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	j := New(st, "", nil, nil)
	done := make(chan struct{})
	go func() { j.Run(ctx, time.Hour); close(done) }()
	j.Begin(store.JournalEntry{CallID: "x", TenantID: ten.ID, Start: time.Now()}, nil)
	if err := j.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	j.End("x", true)
	cancel()
	<-done
	if n, _ := st.JournalSize(context.Background(), ""); n != 0 {
		t.Fatalf("%d rows after a clean stop", n)
	}
}
