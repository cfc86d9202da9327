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
