package callflow

import "time"

// BelgianHoliday names the Belgian public holiday t falls on (in t's own
// location), or returns "": the ten legal holidays (Royal Decree of 18 April
// 1974): New Year, Easter Monday, Labour Day, Ascension, Whit Monday,
// National Day, Assumption, All Saints, Armistice, Christmas.
func BelgianHoliday(t time.Time) string {
	y, m, d := t.Date()
	switch {
	case m == time.January && d == 1:
		return "new_year"
	case m == time.May && d == 1:
		return "labour_day"
	case m == time.July && d == 21:
		return "national_day"
	case m == time.August && d == 15:
		return "assumption"
	case m == time.November && d == 1:
		return "all_saints"
	case m == time.November && d == 11:
		return "armistice"
	case m == time.December && d == 25:
		return "christmas"
	}
	easter := Easter(y)
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	switch day.Sub(easter) / (24 * time.Hour) {
	case 1:
		return "easter_monday"
	case 39:
		return "ascension"
	case 50:
		return "whit_monday"
	}
	return ""
}

// Easter is Easter Sunday of year y in the Gregorian calendar (the
// anonymous Gregorian algorithm), at midnight UTC.
func Easter(y int) time.Time {
	a := y % 19
	b, c := y/100, y%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return time.Date(y, time.Month(month), day, 0, 0, 0, 0, time.UTC)
}
