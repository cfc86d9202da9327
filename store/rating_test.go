package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestRatesContract(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if rs, any, err := s.RatesFor(ctx, []string{"32"}); err != nil || any || len(rs) != 0 {
			t.Fatalf("empty table: %v %v %v", rs, any, err)
		}
		table := []Rate{{Prefix: "32", Name: "Belgium", PerMinute: 20_000}, {Prefix: "324", Name: "BE mobile", PerMinute: 90_000, Setup: 50_000}, {Prefix: "1", Name: "NANP", PerMinute: 33_300}}
		if err := s.ReplaceRates(ctx, table); err != nil {
			t.Fatal(err)
		}
		rs, any, err := s.RatesFor(ctx, []string{"32470000001", "3247000000", "32470", "3247", "324", "32", "3"})
		if err != nil || !any || len(rs) != 2 {
			t.Fatalf("rates for a mobile: %+v %v %v", rs, any, err)
		}
		if rs, any, err := s.RatesFor(ctx, []string{"44", "4"}); err != nil || !any || len(rs) != 0 {
			t.Fatalf("rates for the UK: %+v %v %v", rs, any, err)
		}
		if err := s.ReplaceRates(ctx, []Rate{{Prefix: "32", Name: "a"}, {Prefix: "32", Name: "b"}}); !errors.Is(err, ErrConflict) {
			t.Fatalf("duplicate prefix: %v", err)
		}
		all, err := s.Rates(ctx)
		if err != nil || len(all) != 3 || all[0].Prefix != "1" || all[2] != table[1] {
			t.Fatalf("a failed replace changed the table: %+v %v", all, err)
		}
	})
}

func TestPricesUsageContract(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		ten, u := newTenantUser(t, s)
		nov := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		var cdrs []CDR
		var prices []CDRPrice
		for i := range 6 {
			start := nov.Add(time.Duration(i) * time.Hour)
			c := CDR{ID: fmt.Sprintf("cdr_%d", i), TenantID: ten.ID, CallID: fmt.Sprint(i), Caller: "201", Callee: "+3221234567", Start: start,
				Answer: start.Add(time.Second), End: start.Add(2 * time.Hour), BillableSeconds: 3601 + i, Disposition: "answered", Origin: "device"}
			cdrs = append(cdrs, c)
			if i < 5 {
				user := u.ID
				if i == 4 {
					user = ""
				}
				prices = append(prices, CDRPrice{CDRID: c.ID, TenantID: ten.ID, UserID: user, Number: "+3221234567", Class: "national_fixed", Seconds: c.BillableSeconds, Cents: 100, Start: start})
			}
		}
		if err := s.ImportCDRs(ctx, cdrs, prices); err != nil {
			t.Fatal(err)
		}
		if err := s.InsertCDRPrice(ctx, prices[0]); !errors.Is(err, ErrConflict) {
			t.Fatalf("a second price: %v", err)
		}
		if err := s.InsertCDRPrice(ctx, CDRPrice{CDRID: "cdr_missing", TenantID: ten.ID, Start: nov}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("price of a missing record: %v", err)
		}
		if err := s.InsertCDRPrice(ctx, CDRPrice{CDRID: "cdr_5", TenantID: ten.ID, UserID: u.ID, Number: "+447700900000", Class: "international", Seconds: 10, Cents: 7, Start: cdrs[5].Start}); err != nil {
			t.Fatal(err)
		}
		end := nov.AddDate(0, 1, 0)
		if n, err := s.Spent(ctx, ten.ID, "", nov, end); err != nil || n != 507 {
			t.Fatalf("tenant spent %d, %v", n, err)
		}
		if n, err := s.Spent(ctx, ten.ID, u.ID, nov, end); err != nil || n != 407 {
			t.Fatalf("user spent %d, %v", n, err)
		}
		if n, err := s.Spent(ctx, ten.ID, "", end, end.AddDate(0, 1, 0)); err != nil || n != 0 {
			t.Fatalf("next month spent %d, %v", n, err)
		}
		rows, err := s.Usage(ctx, ten.ID, nov, end)
		want := []UsageRow{{"", "national_fixed", 1, 3605, 100}, {u.ID, "international", 1, 10, 7}, {u.ID, "national_fixed", 4, 3601 + 3602 + 3603 + 3604, 400}}
		if err != nil || fmt.Sprint(rows) != fmt.Sprint(want) {
			t.Fatalf("usage %+v, %v; want %+v", rows, err, want)
		}
		pats, err := s.CallPatterns(ctx, ten.ID, nov, end)
		if err != nil || len(pats) != 2 || pats[1] != (CallPattern{u.ID, 3601 + 3602 + 3603 + 3604 + 10, 2}) {
			t.Fatalf("patterns %+v, %v", pats, err)
		}
		long, err := s.LongCallsTo(ctx, ten.ID, nov, end, 3600, 2)
		if err != nil || len(long) != 1 || long[0] != (LongCalls{u.ID, "+3221234567", 4}) {
			t.Fatalf("long calls %+v, %v", long, err)
		}
		// Keyset pages of 4: the 6 records in start order, then nothing.
		page, err := s.ExportCDRs(ctx, ten.ID, nov, end, time.Time{}, "", 4)
		if err != nil || len(page) != 4 || page[0].ID != "cdr_0" || !page[0].Priced || page[0].UserID != u.ID || page[0].Cents != 100 {
			t.Fatalf("first page %+v, %v", page, err)
		}
		last := page[3]
		at, err := s.CDRStart(ctx, ten.ID, last.ID)
		if err != nil || !at.Equal(last.Start) {
			t.Fatalf("cursor %v %v", at, err)
		}
		page, err = s.ExportCDRs(ctx, ten.ID, nov, end, at, last.ID, 4)
		if err != nil || len(page) != 2 || page[1].ID != "cdr_5" || page[1].Class != "international" {
			t.Fatalf("second page %+v, %v", page, err)
		}
		if _, err := s.CDRStart(ctx, "ten_other", last.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("another tenant's cursor: %v", err)
		}
	})
}

func TestCreditFraudCountsContract(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		ten, u := newTenantUser(t, s)
		if ls, err := s.CreditLimits(ctx, ten.ID); err != nil || len(ls) != 0 {
			t.Fatalf("limits of a new tenant: %v %v", ls, err)
		}
		if err := s.SetCreditLimits(ctx, ten.ID, []CreditLimit{{Cents: 5000, AutoRestrict: true}, {UserID: u.ID, Cents: 1000}}); err != nil {
			t.Fatal(err)
		}
		if ls, err := s.CreditLimits(ctx, ten.ID); err != nil || len(ls) != 2 || ls[0] != (CreditLimit{"", 5000, true}) || ls[1] != (CreditLimit{u.ID, 1000, false}) {
			t.Fatalf("limits %+v %v", ls, err)
		}
		if err := s.SetCreditLimits(ctx, "ten_missing", []CreditLimit{{Cents: 1}}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("limits of a missing tenant: %v", err)
		}
		if blocked, err := s.FraudBlocked(ctx, ten.ID, u.ID); err != nil || blocked {
			t.Fatalf("blocked before any block: %v %v", blocked, err)
		}
		at := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
		if created, err := s.BlockFraud(ctx, FraudBlock{TenantID: ten.ID, UserID: u.ID, Reason: "burst", At: at}); err != nil || !created {
			t.Fatalf("block: %v %v", created, err)
		}
		if created, err := s.BlockFraud(ctx, FraudBlock{TenantID: ten.ID, UserID: u.ID, Reason: "again", At: at.Add(time.Hour)}); err != nil || created {
			t.Fatalf("second block: %v %v", created, err)
		}
		if blocked, _ := s.FraudBlocked(ctx, ten.ID, u.ID); !blocked {
			t.Fatal("the user is not blocked")
		}
		if blocked, _ := s.FraudBlocked(ctx, ten.ID, "usr_other"); blocked {
			t.Fatal("a user block blocks the other users")
		}
		if _, err := s.BlockFraud(ctx, FraudBlock{TenantID: ten.ID, Reason: "tenant burst", At: at}); err != nil {
			t.Fatal(err)
		}
		if blocked, _ := s.FraudBlocked(ctx, ten.ID, "usr_other"); !blocked {
			t.Fatal("a tenant block does not block its users")
		}
		bs, err := s.FraudBlocks(ctx, ten.ID)
		if err != nil || len(bs) != 2 || bs[1].Reason != "burst" || !bs[1].At.Equal(at) {
			t.Fatalf("blocks %+v %v", bs, err)
		}
		if at, err := s.FraudLiftedAt(ctx, ten.ID, ""); err != nil || !at.IsZero() {
			t.Fatalf("lifted before any lift: %v %v", at, err)
		}
		lift := at.Add(2 * time.Hour)
		if err := s.LiftFraudBlock(ctx, ten.ID, "", lift); err != nil {
			t.Fatal(err)
		}
		if err := s.LiftFraudBlock(ctx, ten.ID, "", lift); !errors.Is(err, ErrNotFound) {
			t.Fatalf("lifting twice: %v", err)
		}
		if blocked, _ := s.FraudBlocked(ctx, ten.ID, "usr_other"); blocked {
			t.Fatal("a lifted tenant block still blocks")
		}
		if at, err := s.FraudLiftedAt(ctx, ten.ID, ""); err != nil || !at.Equal(lift) {
			t.Fatalf("lifted at %v %v", at, err)
		}
		if bs, _ := s.FraudBlocks(ctx, ten.ID); len(bs) != 1 || bs[0].UserID != u.ID {
			t.Fatalf("blocks in force %+v", bs)
		}
		if created, err := s.BlockFraud(ctx, FraudBlock{TenantID: ten.ID, Reason: "again", At: lift.Add(time.Hour)}); err != nil || !created {
			t.Fatalf("a block after a lift: %v %v", created, err)
		}
		if blocked, _ := s.FraudBlocked(ctx, ten.ID, "usr_other"); !blocked {
			t.Fatal("the new tenant block does not block")
		}
		// The user (full) exists; the month's counts are kept once given.
		end := time.Now().Add(time.Hour)
		c, err := s.CountInventory(ctx, ten.ID, end.Add(-time.Hour), end)
		if err != nil || c != (UsageCounts{1, 0, 0}) {
			t.Fatalf("counts %+v %v", c, err)
		}
		if c, err := s.CountInventory(ctx, ten.ID, time.Unix(0, 0), time.Unix(0, 0)); err != nil || c != (UsageCounts{}) {
			t.Fatalf("counts before the tenant: %+v %v", c, err)
		}
		if kept, err := s.ClosedMonthCounts(ctx, ten.ID, "2026-10", UsageCounts{3, 2, 1}); err != nil || kept != (UsageCounts{3, 2, 1}) {
			t.Fatalf("kept %+v %v", kept, err)
		}
		if kept, err := s.ClosedMonthCounts(ctx, ten.ID, "2026-10", UsageCounts{9, 9, 9}); err != nil || kept != (UsageCounts{3, 2, 1}) {
			t.Fatalf("kept counts changed: %+v %v", kept, err)
		}
	})
}
