package campaign

import (
	"maps"
	"slices"
	"testing"
	"time"
)

func TestWindowOpen(t *testing.T) {
	w := Window{TimeZone: "Europe/Brussels", Hours: []Hours{
		{Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "09:00", To: "12:30"},
		{Days: []string{"Mon"}, From: "14:00", To: "24:00"},
	}}
	bxl := mustZone("Europe/Brussels")
	for at, want := range map[time.Time]bool{
		time.Date(2026, 3, 2, 8, 59, 0, 0, bxl):       false, // Monday, before
		time.Date(2026, 3, 2, 9, 0, 0, 0, bxl):        true,
		time.Date(2026, 3, 2, 12, 30, 0, 0, bxl):      false, // the end is excluded
		time.Date(2026, 3, 2, 23, 59, 0, 0, bxl):      true,  // until midnight on Mondays
		time.Date(2026, 3, 3, 14, 0, 0, 0, bxl):       false, // not on Tuesdays
		time.Date(2026, 3, 7, 10, 0, 0, 0, bxl):       false, // Saturday
		time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC):  true,  // 09:30 in Brussels (winter time)
		time.Date(2026, 3, 30, 7, 30, 0, 0, time.UTC): true,  // 09:30 in Brussels (summer time)
		time.Date(2026, 3, 30, 6, 30, 0, 0, time.UTC): false, // 08:30 in Brussels
	} {
		if got := w.Open(at); got != want {
			t.Errorf("Open(%s) = %v, want %v", at, got, want)
		}
	}
	back, err := DecodeWindow(w.TimeZone, w.EncodeHours())
	if err != nil || !back.Open(time.Date(2026, 3, 2, 9, 0, 0, 0, bxl)) {
		t.Fatalf("stored and read back: %+v %v", back, err)
	}
}

func TestWindowProblems(t *testing.T) {
	if p := weekdays9to17.Problems(); len(p) != 0 {
		t.Fatalf("a good window: %v", p)
	}
	bad := Window{TimeZone: "Nowhere/Town", Hours: []Hours{{Days: []string{"mon", "funday"}, From: "9:00", To: "10:00"}, {From: "10:00", To: "09:00"}, {Days: []string{"sun"}, From: "08:00", To: "24:01"}}}
	got := slices.Sorted(maps.Keys(bad.Problems()))
	want := []string{"window.hours[0].days", "window.hours[0].from", "window.hours[1].days", "window.hours[1].to", "window.hours[2].to", "window.time_zone"}
	if !slices.Equal(got, want) {
		t.Fatalf("problems %v, want %v", got, want)
	}
	if p := (Window{}).Problems(); p["window.hours"] == "" {
		t.Fatalf("no hours: %v", p)
	}
}
