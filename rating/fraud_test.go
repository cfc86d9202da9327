package rating

import (
	"context"
	"fmt"
	"testing"
	"time"

	"pbx/store"
)

// TestFraudBurstTrips: a month of quiet use (1 euro a day), then a
// burst of international calls: past 20 euro in the hour the licence and
// the tenant are blocked from international and premium numbers, not
// from national ones, until lifted.
func TestFraudBurstTrips(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	ten, u := newTenantUser(t, s)
	if err := s.ReplaceRates(ctx, []store.Rate{{Prefix: "32", Name: "Belgium", PerMinute: 60_000}, {Prefix: "44", Name: "UK", PerMinute: 1_000_000}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCreditLimits(ctx, ten.ID, []store.CreditLimit{{Cents: 1_000_000}}); err != nil {
		t.Fatal(err)
	}
	for d := 1; d <= 30; d++ {
		spend(t, s, ten.ID, u.ID, "+3221234567", november.Add(-time.Duration(d)*24*time.Hour), 1000, 100)
	}
	clk := newFakeClock(november)
	n := &notes{}
	m := &Meter{Store: s, Clock: clk, Notify: n}
	calls := 0
	for ; calls < 10; calls++ {
		id := fmt.Sprint("burst-", calls)
		_, refused, err := m.Begin(ctx, id, ten.ID, u.ID, "+447700900000")
		if err != nil {
			t.Fatal(err)
		}
		if refused != "" {
			if refused != RefusedFraud {
				t.Fatalf("refused %q", refused)
			}
			break
		}
		start := clk.Now()
		clk.Advance(5 * time.Minute)
		end(t, s, m, ten.ID, id, start, 300) // 5 euro each
	}
	// 4 calls are 20 euro (the floor, not over it); the 5th trips it.
	if calls != 5 {
		t.Fatalf("the guard tripped after %d calls, want 5", calls)
	}
	if ev := n.list(); len(ev) != 2 || ev[0] != EventFraudBlock || ev[1] != EventFraudBlock {
		t.Fatalf("events %v", ev)
	}
	if bs, _ := s.FraudBlocks(ctx, ten.ID); len(bs) != 2 {
		t.Fatalf("blocks %+v", bs)
	}
	if c, refused, _ := m.Begin(ctx, "national", ten.ID, u.ID, "+3221234567"); refused != "" {
		t.Fatalf("a national call refused: %q", refused)
	} else {
		c.Forget()
	}
	if _, refused, _ := m.Begin(ctx, "premium", ten.ID, u.ID, "+3290612345"); refused != RefusedFraud {
		t.Fatalf("premium call: %q", refused)
	}
	for _, userID := range []string{u.ID, ""} {
		if err := s.LiftFraudBlock(ctx, ten.ID, userID, clk.Now()); err != nil {
			t.Fatal(err)
		}
	}
	// After the lift the guard counts from the lift: the hot hour before
	// it does not block the next call again; a new burst does.
	for i := range 5 {
		id := fmt.Sprint("after-", i)
		if _, refused, err := m.Begin(ctx, id, ten.ID, u.ID, "+447700900000"); err != nil || refused != "" {
			t.Fatalf("call %d after the lift: %q %v", i, refused, err)
		}
		start := clk.Now()
		clk.Advance(time.Minute)
		end(t, s, m, ten.ID, id, start, 300)
		if blocked, _ := s.FraudBlocked(ctx, ten.ID, u.ID); blocked != (i == 4) {
			t.Fatalf("after %d calls since the lift: blocked %v", i+1, blocked)
		}
	}
}
