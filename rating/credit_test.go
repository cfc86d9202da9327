package rating

import (
	"testing"
	"time"
)

func TestCutAfter(t *testing.T) {
	r := Rate{PerMinute: 60_000} // 6 cents a minute
	for _, c := range []struct {
		r         Rate
		remaining Cents
		want      int64
	}{
		{r, 6, 60}, {r, 7, 70}, {r, 0, 0}, {r, -5, 0},
		{Rate{PerMinute: 60_000, Setup: 150_000}, 21, 60}, {Rate{PerMinute: 60_000, Setup: 150_000}, 14, 0},
		{Rate{PerMinute: 33_300}, 4, 72}, // 72 s = 3.996 cents -> 4; 73 s = 4.05 -> 5
		{Rate{}, 0, Unlimited}, {Rate{Setup: 10_000}, 0, 0},
	} {
		got := CutAfter(c.r, c.remaining)
		if got != c.want {
			t.Errorf("%+v with %d cents: %d s, want %d", c.r, c.remaining, got, c.want)
		}
		if got > 0 && (c.r.Price(int(got)) > c.remaining || c.r.Price(int(got)+1) <= c.remaining) {
			t.Errorf("%+v with %d cents: %d s is not the last second within the credit", c.r, c.remaining, got)
		}
	}
	if Least(Remaining(0, 50), Remaining(100, 30)) != 70 || Least(Unlimited, Unlimited) != Unlimited || Least(5, Unlimited) != 5 {
		t.Error("Least/Remaining")
	}
}

func TestFraudRule(t *testing.T) {
	r := FraudRule{Multiple: 10, Floor: 2000}
	// 30 days of 720 euro: 1 euro an hour on average.
	history := Cents(72_000)
	for _, c := range []struct {
		lastHour Cents
		want     bool
	}{{999, false}, {2000, false}, {2001, true}, {1001, false}} {
		if got := r.Tripped(c.lastHour, history); got != c.want {
			t.Errorf("last hour %d: %v", c.lastHour, got)
		}
	}
	// A big spender: 100 euro an hour usually; 900 euro is within 10x.
	if r.Tripped(90_000, 7_200_000) || !r.Tripped(100_001, 7_200_000) {
		t.Error("big spender")
	}
	// No history at all: anything over the floor trips it.
	if !r.Tripped(2001, 0) || r.Tripped(1999, 0) {
		t.Error("no history")
	}
}

func TestMonth(t *testing.T) {
	m, err := ParseMonth("2026-11")
	if err != nil {
		t.Fatal(err)
	}
	// Brussels is UTC+1 in November: the month starts at 23:00 UTC the day before.
	if got := m.Start().UTC(); !got.Equal(time.Date(2026, 10, 31, 23, 0, 0, 0, time.UTC)) {
		t.Errorf("start %v", got)
	}
	if got := m.End().UTC(); !got.Equal(time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC)) {
		t.Errorf("end %v", got)
	}
	if MonthOf(time.Date(2026, 11, 30, 23, 30, 0, 0, time.UTC)).String() != "2026-12" {
		t.Error("half past midnight in Brussels on 1 December is December")
	}
	for _, bad := range []string{"2026-13", "2026-1", "26-11", "november"} {
		if _, err := ParseMonth(bad); err == nil {
			t.Errorf("ParseMonth(%q) accepted", bad)
		}
	}
}
