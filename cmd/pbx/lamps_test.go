package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"pbx/sip/b2bua"
	"pbx/store"
)

// Two nodes on one store: a call on node a changes the lamp state node b
// reports for the user, and b hears of each change once.
func TestClusterLampsFollowOtherNode(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Path: filepath.Join(t.TempDir(), "pbx.db"), SecretKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clock := time.UnixMilli(1800000000000)
	now := func() time.Time { return clock }
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var heard []string
	a, err := newClusterLamps(ctx, st, "a", log, func(string) { t.Error("node a heard of its own change") })
	if err != nil {
		t.Fatal(err)
	}
	b, err := newClusterLamps(ctx, st, "b", log, func(uid string) { heard = append(heard, uid) })
	if err != nil {
		t.Fatal(err)
	}
	a.now, b.now = now, now
	step := func(state string) {
		t.Helper()
		clock = clock.Add(time.Second)
		a.publish("u1", state)
		if err := a.flush(ctx); err != nil {
			t.Fatal(err)
		}
		if err := a.poll(ctx); err != nil {
			t.Fatal(err)
		}
		if err := b.poll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	step(b2bua.UserEarly)
	step(b2bua.UserConfirmed)
	if got := b.state("u1", b2bua.UserIdle); got != b2bua.UserConfirmed {
		t.Errorf("node b's state of a user in a call on node a: %q, want confirmed", got)
	}
	if got := b.state("u2", b2bua.UserEarly); got != b2bua.UserEarly {
		t.Errorf("a local state with nothing elsewhere: %q", got)
	}
	// Polling again without a change tells nobody.
	if err := b.poll(ctx); err != nil {
		t.Fatal(err)
	}
	step(b2bua.UserIdle)
	if got := b.state("u1", b2bua.UserIdle); got != b2bua.UserIdle {
		t.Errorf("after the call: %q, want terminated", got)
	}
	if want := []string{"u1", "u1", "u1"}; !slices.Equal(heard, want) {
		t.Errorf("node b heard %v, want %v (early, confirmed, idle)", heard, want)
	}

	// Node a goes silent in a call: once its heartbeat is older than
	// nodeSilence, its states count for nothing.
	heard = nil
	if err := st.WriteJournal(ctx, store.JournalBatch{Node: "a", Seen: clock}); err != nil {
		t.Fatal(err)
	}
	step(b2bua.UserConfirmed)
	if got := b.state("u1", b2bua.UserIdle); got != b2bua.UserConfirmed {
		t.Fatalf("a call on a node still alive: %q", got)
	}
	clock = clock.Add(nodeSilence + time.Second)
	if err := b.poll(ctx); err != nil {
		t.Fatal(err)
	}
	if got := b.state("u1", b2bua.UserIdle); got != b2bua.UserIdle {
		t.Errorf("a user busy on a silent node: %q, want terminated", got)
	}
	if want := []string{"u1", "u1"}; !slices.Equal(heard, want) {
		t.Errorf("node b heard %v, want %v (confirmed, then the node's silence)", heard, want)
	}
}
