package callflow

import (
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // time zones work on hosts without a zoneinfo database
)

// DefaultTimezone is the time zone of flows and tenants that name none.
const DefaultTimezone = "Europe/Brussels"

var dayNames = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// clock parses "HH:MM" into minutes since midnight; "24:00" is the end of
// the day.
func clock(s string) (int, error) {
	if len(s) != 5 || s[2] != ':' || !digits(s[:2]) || !digits(s[3:]) {
		return 0, fmt.Errorf("must be HH:MM")
	}
	// Sscanf alone would take "-1:00" or " 8:00"; the digits are checked above.
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if h > 24 || m > 59 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("must be a time of day HH:MM between 00:00 and 24:00")
	}
	return h*60 + m, nil
}

// location is the node's time zone, else tz, else Europe/Brussels.
func (n Node) location(tz string) (*time.Location, error) {
	name := n.Timezone
	if name == "" {
		name = tz
	}
	if name == "" {
		name = DefaultTimezone
	}
	return time.LoadLocation(name)
}

// isOpen says whether a schedule node is open at t (the node is valid).
func (n Node) isOpen(t time.Time, tz string) bool {
	loc, err := n.location(tz)
	if err != nil {
		loc, _ = time.LoadLocation(DefaultTimezone)
	}
	local := t.In(loc)
	date := local.Format(time.DateOnly)
	minute := local.Hour()*60 + local.Minute()
	for _, ex := range n.Exceptions {
		if ex.Date == date {
			return !ex.Closed && inHours(ex.Hours, local.Weekday(), minute, true)
		}
	}
	if strings.EqualFold(n.Holidays, "BE") && BelgianHoliday(local) != "" {
		return false
	}
	return inHours(n.Hours, local.Weekday(), minute, false)
}

// inHours reports whether minute of day wd falls in one of hours; an
// exception's hours need no days (they are for its date).
func inHours(hours []Hours, wd time.Weekday, minute int, anyDay bool) bool {
	for _, h := range hours {
		if !anyDay || len(h.Days) > 0 {
			match := false
			for _, d := range h.Days {
				if dayNames[strings.ToLower(d)] == wd {
					match = true
				}
			}
			if !match {
				continue
			}
		}
		from, err1 := clock(h.From)
		to, err2 := clock(h.To)
		if err1 == nil && err2 == nil && minute >= from && minute < to {
			return true
		}
	}
	return false
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
