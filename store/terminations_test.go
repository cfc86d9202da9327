package store

import (
	"context"
	"testing"
	"time"
)

// TestTerminatedStillBilledForTheirMonth: a licence or number terminated
// during a month counts for that month (every started month is billed)
// and not for the next.
func TestTerminatedStillBilledForTheirMonth(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		ten, u := newTenantUser(t, s)
		light, err := s.CreateUser(ctx, User{TenantID: ten.ID, FirstName: "Door", LastName: "Phone", Licence: LicenceLight})
		if err != nil {
			t.Fatal(err)
		}
		n, err := s.CreateNumber(ctx, Number{TenantID: ten.ID, E164: "+3221234567", Destination: Destination{Type: DestUser, ID: u.ID}})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		start, end := now.Add(-24*time.Hour), now.Add(24*time.Hour) // this "month"
		next := [2]time.Time{end, end.Add(30 * 24 * time.Hour)}
		before, err := s.CountInventory(ctx, ten.ID, start, end)
		if err != nil || before != (UsageCounts{1, 1, 1}) {
			t.Fatalf("before: %+v %v", before, err)
		}
		if err := s.TerminateUser(ctx, ten.ID, light.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteNumber(ctx, ten.ID, n.ID); err != nil {
			t.Fatal(err)
		}
		if c, err := s.CountInventory(ctx, ten.ID, start, end); err != nil || c != before {
			t.Fatalf("the month they ended in: %+v %v, want %+v", c, err, before)
		}
		if c, err := s.CountInventory(ctx, ten.ID, next[0], next[1]); err != nil || c != (UsageCounts{1, 0, 0}) {
			t.Fatalf("the next month: %+v %v, want only the full licence", c, err)
		}
	})
}
