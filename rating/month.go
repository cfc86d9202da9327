package rating

import (
	"fmt"
	"time"
	_ "time/tzdata" // the billing zone must load on hosts without a zoneinfo database
)

// Zone is the billing time zone: calendar months begin at midnight in
// Brussels.
var Zone = mustZone("Europe/Brussels")

func mustZone(name string) *time.Location {
	z, err := time.LoadLocation(name)
	if err != nil {
		panic(fmt.Sprintf("rating: time zone %s: %v (import time/tzdata)", name, err))
	}
	return z
}

// Month is a calendar month of the billing time zone.
type Month struct {
	Year  int
	Month time.Month
}

// ParseMonth reads "2026-11".
func ParseMonth(s string) (Month, error) {
	t, err := time.ParseInLocation("2006-01", s, Zone)
	if err != nil || len(s) != 7 {
		return Month{}, fmt.Errorf("rating: month %q: want YYYY-MM such as 2026-11", s)
	}
	return Month{t.Year(), t.Month()}, nil
}

// MonthOf is the month t falls in, in the billing time zone.
func MonthOf(t time.Time) Month {
	t = t.In(Zone)
	return Month{t.Year(), t.Month()}
}

// Start is the first instant of the month.
func (m Month) Start() time.Time { return time.Date(m.Year, m.Month, 1, 0, 0, 0, 0, Zone) }

// End is the first instant of the next month.
func (m Month) End() time.Time { return time.Date(m.Year, m.Month+1, 1, 0, 0, 0, 0, Zone) }

func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.Year, int(m.Month)) }
