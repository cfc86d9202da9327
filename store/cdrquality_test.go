package store

import (
	"context"
	"testing"
	"time"
)

// TestCDRQuality: the quality of both legs is kept with the record; a
// record written without it reads as zero (no media).
func TestCDRQuality(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		ten, _ := newTenantUser(t, s)
		start := time.UnixMilli(1767225600000).UTC()
		want := CDR{TenantID: ten.ID, CallID: "q1", Caller: "201", Callee: "202", Start: start, Answer: start.Add(time.Second),
			End: start.Add(time.Minute), BillableSeconds: 59, Disposition: "answered",
			CallerQuality: LegQuality{LossPercent: 0.25, JitterMS: 1.5, MOS: 4.38},
			CalleeQuality: LegQuality{LossPercent: 10, JitterMS: 12.125, MOS: 3.36}}
		if _, err := s.InsertCDR(ctx, want); err != nil {
			t.Fatal(err)
		}
		if _, err := s.InsertCDR(ctx, CDR{TenantID: ten.ID, CallID: "q0", Start: start.Add(-time.Minute), End: start, Disposition: "failed"}); err != nil {
			t.Fatal(err)
		}
		got, err := s.CDRs(ctx, ten.ID, 10)
		if err != nil || len(got) != 2 {
			t.Fatalf("CDRs: %+v %v", got, err)
		}
		if got[0].CallerQuality != want.CallerQuality || got[0].CalleeQuality != want.CalleeQuality {
			t.Errorf("quality read back %+v / %+v, wrote %+v / %+v", got[0].CallerQuality, got[0].CalleeQuality, want.CallerQuality, want.CalleeQuality)
		}
		if (got[1].CallerQuality != LegQuality{}) || (got[1].CalleeQuality != LegQuality{}) {
			t.Errorf("a record without media reads quality %+v / %+v", got[1].CallerQuality, got[1].CalleeQuality)
		}
	})
}
