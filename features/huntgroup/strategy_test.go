package huntgroup

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func ids(ms []Member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.UserID)
	}
	return out
}

func TestOrder(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	free := func(id string, ended time.Duration) Member {
		m := Member{UserID: id, Registered: true}
		if ended != 0 {
			m.LastCallEnded = t0.Add(ended)
		}
		return m
	}
	members := []Member{free("a", 3*time.Minute), free("b", time.Minute), free("c", 0), free("d", 2*time.Minute)}
	for _, tc := range []struct {
		s    Strategy
		last string
		want []string
	}{
		{RingAll, "", []string{"a", "b", "c", "d"}},
		{Linear, "c", []string{"a", "b", "c", "d"}},
		{RoundRobin, "", []string{"a", "b", "c", "d"}},
		{RoundRobin, "b", []string{"c", "d", "a", "b"}},
		{RoundRobin, "d", []string{"a", "b", "c", "d"}},
		{RoundRobin, "gone", []string{"a", "b", "c", "d"}},
		{LongestIdle, "", []string{"c", "b", "d", "a"}},
	} {
		if got := ids(Order(tc.s, members, tc.last, nil)); !slices.Equal(got, tc.want) {
			t.Errorf("%s after %q: %v, want %v", tc.s, tc.last, got, tc.want)
		}
	}
	// Random: every member once, and more than one order over many draws.
	rnd := rand.New(rand.NewPCG(1, 2))
	orders := map[string]bool{}
	for range 50 {
		got := ids(Order(Random, members, "", rnd))
		sorted := slices.Sorted(slices.Values(got))
		if !slices.Equal(sorted, []string{"a", "b", "c", "d"}) {
			t.Fatalf("random order lost members: %v", got)
		}
		orders[slices.Concat(got)[0]+slices.Concat(got)[1]] = true
	}
	if len(orders) < 3 {
		t.Errorf("random order hardly varies: %v", orders)
	}
}

func TestOrderSkipsMembersWhoCannotAnswer(t *testing.T) {
	members := []Member{
		{UserID: "dnd", Registered: true, DND: true},
		{UserID: "busy", Registered: true, Busy: true},
		{UserID: "offline"},
		{UserID: "ok", Registered: true},
	}
	for _, s := range []Strategy{RingAll, Linear, RoundRobin, LongestIdle, Random} {
		if got := ids(Order(s, members, "dnd", nil)); !slices.Equal(got, []string{"ok"}) {
			t.Errorf("%s: %v", s, got)
		}
	}
}
