// Command usagebench measures how long the monthly usage and fair-use
// reports take over a month of call records: it makes a store (SQLite in
// a temporary directory, or the PostgreSQL database of -db), a tenant of
// 400 licences, writes -calls generated records over the current month,
// then times each report (the best of -runs).
//
// Figures go to stdout as "name value unit" (usage_report_ms,
// fair_use_report_ms, usage_calls_written_per_s); progress goes to
// stderr. `make bench` runs it and ignores its exit status.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"pbx/rating"
	"pbx/rating/ratingtest"
	"pbx/store"
)

func main() {
	calls := flag.Int("calls", 100_000, "call records to generate")
	runs := flag.Int("runs", 3, "times each report is made (the fastest counts)")
	db := flag.String("db", "", "PostgreSQL URL (default: SQLite in a temporary directory)")
	flag.Parse()
	if err := run(*calls, *runs, *db); err != nil {
		fmt.Fprintln(os.Stderr, "usagebench:", err)
		os.Exit(1)
	}
}

func run(calls, runs int, url string) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "usagebench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := store.Open(ctx, store.Options{Path: filepath.Join(dir, "pbx.db"), URL: url, SecretKey: make([]byte, 32)})
	if err != nil {
		return err
	}
	defer st.Close()
	ten, err := st.CreateTenant(ctx, store.Tenant{Name: "Bench", Domain: store.NewID("bench") + ".test"})
	if err != nil {
		return err
	}
	defer st.DeleteTenant(ctx, ten.ID)
	var users []string
	for i := range 400 {
		u, err := st.CreateUser(ctx, store.User{TenantID: ten.ID, FirstName: "U", LastName: fmt.Sprint(i), Licence: store.LicenceFull, Extension: fmt.Sprint(1000 + i)})
		if err != nil {
			return err
		}
		users = append(users, u.ID)
	}
	m := rating.MonthOf(time.Now())
	fmt.Fprintf(os.Stderr, "usagebench: writing %d call records\n", calls)
	start := time.Now()
	if _, err := ratingtest.Generate(ctx, st, ten.ID, users, m, calls); err != nil {
		return err
	}
	fmt.Printf("usage_calls_written_per_s %.0f calls/s\n", float64(calls)/time.Since(start).Seconds())
	best := func(name string, f func() error) error {
		var min time.Duration
		for i := range runs {
			t0 := time.Now()
			if err := f(); err != nil {
				return err
			}
			if d := time.Since(t0); i == 0 || d < min {
				min = d
			}
		}
		fmt.Printf("%s %.1f ms\n", name, float64(min.Microseconds())/1000)
		return nil
	}
	if err := best("usage_report_ms", func() error {
		_, err := rating.Report(ctx, st, ten.ID, m, time.Now())
		return err
	}); err != nil {
		return err
	}
	return best("fair_use_report_ms", func() error {
		_, err := rating.FairUse(ctx, st, ten.ID, m, rating.DefaultFairUse)
		return err
	})
}
