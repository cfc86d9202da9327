package store

import (
	"context"
	"testing"
	"time"
)

// TestCallJournalRecovery: rows of calls up at a crash become
// system_failure CDRs ended at the last heartbeat; a row whose CDR exists
// gives no second record; another node's rows are not touched; ended calls
// leave no row.
func TestCallJournalRecovery(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		ten, _ := newTenantUser(t, s)
		t0 := time.UnixMilli(1767225600000).UTC()
		entry := func(id string, answered bool) JournalEntry {
			e := JournalEntry{CallID: id, TenantID: ten.ID, Caller: "201", Callee: "202", Origin: "device", Start: t0}
			if answered {
				e.Answer = t0.Add(2 * time.Second)
			}
			return e
		}
		up, ringing, ended, done, other := entry("up", false), entry("ringing", false), entry("ended", true), entry("done", true), entry("other", true)
		if err := s.WriteJournal(ctx, JournalBatch{Node: "a", Begun: []JournalEntry{up, ringing, ended, done}, Seen: t0}); err != nil {
			t.Fatal(err)
		}
		if err := s.WriteJournal(ctx, JournalBatch{Node: "b", Begun: []JournalEntry{other}, Seen: t0}); err != nil {
			t.Fatal(err)
		}
		up.Answer = t0.Add(3 * time.Second)
		// "done" ended and has its CDR, but the crash came before the batch
		// that removes its row; "ended" was removed.
		if _, err := s.InsertCDR(ctx, CDR{TenantID: ten.ID, CallID: "done", Start: t0, End: t0.Add(time.Minute), Disposition: "answered"}); err != nil {
			t.Fatal(err)
		}
		if err := s.WriteJournal(ctx, JournalBatch{Node: "a", Answered: []JournalEntry{up}, Ended: []string{"ended"}, Seen: t0.Add(10 * time.Second)}); err != nil {
			t.Fatal(err)
		}
		if n, err := s.JournalSize(ctx, "a"); err != nil || n != 3 {
			t.Fatalf("journal of a: %d rows, %v; want 3", n, err)
		}
		got, err := s.RecoverJournal(ctx, "a", t0.Add(time.Hour))
		if err != nil || len(got) != 2 {
			t.Fatalf("recovered %+v, %v; want 2 records", got, err)
		}
		byCall := map[string]CDR{}
		for _, c := range got {
			byCall[c.CallID] = c
		}
		u, r := byCall["up"], byCall["ringing"]
		if u.HangupCause != CauseSystemFailure || u.Disposition != "answered" || u.BillableSeconds != 7 || !u.End.Equal(t0.Add(10*time.Second)) {
			t.Errorf("answered call's record %+v", u)
		}
		if r.HangupCause != CauseSystemFailure || r.Disposition != "failed" || r.BillableSeconds != 0 || !r.Answer.IsZero() {
			t.Errorf("ringing call's record %+v", r)
		}
		cdrs, err := s.CDRs(ctx, ten.ID, 10)
		if err != nil || len(cdrs) != 3 {
			t.Fatalf("CDRs after recovery: %d, %v; want 3 (done, up, ringing)", len(cdrs), err)
		}
		if n, _ := s.JournalSize(ctx, "a"); n != 0 {
			t.Errorf("node a's journal keeps %d rows", n)
		}
		if n, _ := s.JournalSize(ctx, "b"); n != 1 {
			t.Errorf("node b's journal has %d rows, want 1", n)
		}
		if again, err := s.RecoverJournal(ctx, "a", t0.Add(time.Hour)); err != nil || len(again) != 0 {
			t.Errorf("second recovery: %+v %v", again, err)
		}
	})
}
