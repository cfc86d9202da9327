package store

import (
	"context"
	"testing"
	"time"
)

// Each node keeps its own state of a licence; a node polling for changes
// reads those written since a time, and idle ones are swept.
func TestUserStates(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		t0 := time.UnixMilli(1800000000000).UTC()
		if err := s.SetUserStates(ctx, []UserState{
			{UserID: "u1", Node: "a", State: "confirmed", UpdatedAt: t0},
			{UserID: "u1", Node: "b", State: "terminated", UpdatedAt: t0},
			{UserID: "u2", Node: "a", State: "early", UpdatedAt: t0.Add(time.Second)},
		}); err != nil {
			t.Fatal(err)
		}
		// An update replaces the node's own row only.
		if err := s.SetUserStates(ctx, []UserState{{UserID: "u1", Node: "a", State: "terminated", UpdatedAt: t0.Add(2 * time.Second)}}); err != nil {
			t.Fatal(err)
		}
		got, err := s.UserStates(ctx, "u1")
		if err != nil || len(got) != 2 || got[0].Node != "a" || got[0].State != "terminated" || !got[0].UpdatedAt.Equal(t0.Add(2*time.Second)) ||
			got[1].Node != "b" {
			t.Fatalf("u1's states: %+v, %v", got, err)
		}
		since, err := s.UserStatesSince(ctx, t0.Add(time.Second))
		if err != nil || len(since) != 2 || since[0].UserID != "u2" || since[1].UserID != "u1" {
			t.Fatalf("states since t0+1s: %+v, %v", since, err)
		}
		n, err := s.DeleteIdleUserStates(ctx, t0.Add(time.Second))
		if err != nil || n != 1 {
			t.Errorf("idle states swept: %d, %v; want 1 (u1 on b)", n, err)
		}
		if got, err := s.UserStates(ctx, "u2"); err != nil || len(got) != 1 || got[0].State != "early" {
			t.Errorf("u2's states after the sweep: %+v, %v", got, err)
		}
		// A node that starts again has no call up: its busy states
		// become idle (u1 on a was idle already and is left alone).
		if err := s.ResetUserStates(ctx, "a", t0.Add(3*time.Second)); err != nil {
			t.Fatal(err)
		}
		if got, err := s.UserStatesSince(ctx, t0.Add(3*time.Second)); err != nil || len(got) != 1 || got[0].UserID != "u2" || got[0].State != "terminated" {
			t.Errorf("after node a's reset: %+v, %v", got, err)
		}
		// The nodes' heartbeats, written with their call journals.
		if err := s.WriteJournal(ctx, JournalBatch{Node: "a", Seen: t0}); err != nil {
			t.Fatal(err)
		}
		if seen, err := s.NodesSeen(ctx); err != nil || len(seen) != 1 || !seen["a"].Equal(t0) {
			t.Errorf("nodes seen: %v, %v", seen, err)
		}
	})
}
