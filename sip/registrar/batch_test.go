package registrar

import (
	"context"
	"sync"
	"testing"
	"time"

	"pbx/store"
)

// commitLog is a Store whose ApplyBindings records each batch.
type commitLog struct {
	*memStore
	mu      sync.Mutex
	batches [][]store.BindingChange
}

func (c *commitLog) ApplyBindings(ctx context.Context, cs []store.BindingChange) error {
	c.mu.Lock()
	c.batches = append(c.batches, append([]store.BindingChange(nil), cs...))
	c.mu.Unlock()
	return c.memStore.ApplyBindings(ctx, cs)
}

func (c *commitLog) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.batches)
}

// Refreshes, which nobody waits for, are held for others to join them and
// committed together; a change somebody waits for ends the hold at once,
// and a refresh alone is committed within refreshDelay.
func TestBatchHoldsRefreshes(t *testing.T) {
	st := &commitLog{memStore: newMemStore()}
	w := newBatchWriter(st)
	defer w.close()
	refresh := func(contact string) []store.BindingChange {
		return []store.BindingChange{{Binding: store.Binding{DeviceID: "dev1", Contact: contact}, Refresh: true}}
	}
	done := make(chan error, 10)
	for _, c := range []string{"sip:a@h", "sip:b@h", "sip:c@h"} {
		if err := w.enqueue(refresh(c), func(err error) { done <- err }, false); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.apply([]store.BindingChange{{Binding: store.Binding{DeviceID: "dev1", Contact: "sip:d@h"}}}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if n := st.count(); n > 2 {
		t.Fatalf("%d commits for three refreshes and a change", n)
	}
	before := st.count()
	start := time.Now()
	if err := w.enqueue(refresh("sip:e@h"), func(err error) { done <- err }, false); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < refreshDelay/2 {
		t.Errorf("a lone refresh was committed after %v, not held", waited)
	}
	if st.count() != before+1 {
		t.Errorf("%d commits for a lone refresh", st.count()-before)
	}
}

// A REGISTER of an unchanged contact is a refresh, answered before its
// write, unless the binding is about to expire: then it is written whole
// before the 200, so that the expiry sweep cannot remove it first.
func TestRefreshNearExpiryWaits(t *testing.T) {
	st := &commitLog{memStore: newMemStore()}
	r := newTestRegistrar(st)
	defer r.Close()
	now := time.Now()
	r.now = func() time.Time { return now }
	last := func() store.BindingChange {
		r.writer.barrier()
		st.mu.Lock()
		defer st.mu.Unlock()
		for i := len(st.batches) - 1; i >= 0; i-- {
			if b := st.batches[i]; len(b) > 0 {
				return b[len(b)-1]
			}
		}
		t.Fatal("nothing written")
		return store.BindingChange{}
	}
	for i, step := range []struct {
		after   time.Duration
		refresh bool
	}{{0, false}, {20 * time.Second, true}, {55 * time.Second, false}} {
		now = now.Add(step.after)
		if tx := handle(t, r, authorized(i+1, "60")); len(tx.responses) != 1 || tx.responses[0].StatusCode != 200 {
			t.Fatalf("REGISTER %d: %+v", i, tx.responses)
		}
		if c := last(); c.Refresh != step.refresh || c.CSeq != uint32(i+1) {
			t.Errorf("REGISTER %d, %v after the one before: refresh %v, want %v", i, step.after, c.Refresh, step.refresh)
		}
	}
}
