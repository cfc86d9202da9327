package campaign

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // time zones work on hosts without a zoneinfo database
)

// DefaultTimeZone is the time zone of a window that names none.
const DefaultTimeZone = "Europe/Brussels"

// Hours are calling hours on some days of the week: From until To
// ("HH:MM", To excluded; "24:00" is the end of the day).
type Hours struct {
	Days []string `json:"days" doc:"mon, tue, wed, thu, fri, sat, sun"`
	From string   `json:"from" doc:"HH:MM"`
	To   string   `json:"to" doc:"HH:MM, after From; 24:00 ends the day"`
}

// Window is when a campaign may dial: weekly hours in a time zone.
// Outside it nothing is dialled; calls under way go on.
type Window struct {
	TimeZone string  `json:"time_zone" doc:"IANA time zone; default Europe/Brussels"`
	Hours    []Hours `json:"hours"`
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday,
	"wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// minuteOfDay parses "HH:MM".
func minuteOfDay(s string) (int, error) {
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("must be HH:MM")
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("must be HH:MM")
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if h > 24 || m > 59 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("must be a time of day between 00:00 and 24:00")
	}
	return h*60 + m, nil
}

// Problems names what is wrong with w, field by field (prefix "window");
// none when it is valid.
func (w Window) Problems() map[string]string {
	out := map[string]string{}
	if w.TimeZone != "" {
		if _, err := time.LoadLocation(w.TimeZone); err != nil {
			out["window.time_zone"] = "unknown time zone"
		}
	}
	if len(w.Hours) == 0 {
		out["window.hours"] = "at least one range of hours is required"
	}
	for i, h := range w.Hours {
		p := fmt.Sprintf("window.hours[%d]", i)
		if len(h.Days) == 0 {
			out[p+".days"] = "at least one day is required"
		}
		for _, d := range h.Days {
			if _, ok := weekdays[strings.ToLower(d)]; !ok {
				out[p+".days"] = fmt.Sprintf("%q is not one of mon, tue, wed, thu, fri, sat, sun", d)
			}
		}
		from, err1 := minuteOfDay(h.From)
		to, err2 := minuteOfDay(h.To)
		switch {
		case err1 != nil:
			out[p+".from"] = err1.Error()
		case err2 != nil:
			out[p+".to"] = err2.Error()
		case to <= from:
			out[p+".to"] = "must be after from"
		}
	}
	return out
}

// location is the window's time zone.
func (w Window) location() *time.Location {
	name := w.TimeZone
	if name == "" {
		name = DefaultTimeZone
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		loc, _ = time.LoadLocation(DefaultTimeZone)
	}
	return loc
}

// Open reports whether t falls in the window.
func (w Window) Open(t time.Time) bool {
	local := t.In(w.location())
	minute := local.Hour()*60 + local.Minute()
	for _, h := range w.Hours {
		from, err1 := minuteOfDay(h.From)
		to, err2 := minuteOfDay(h.To)
		if err1 != nil || err2 != nil || minute < from || minute >= to {
			continue
		}
		for _, d := range h.Days {
			if weekdays[strings.ToLower(d)] == local.Weekday() {
				return true
			}
		}
	}
	return false
}

// EncodeHours is the hours as the store keeps them.
func (w Window) EncodeHours() string {
	b, _ := json.Marshal(w.Hours)
	return string(b)
}

// DecodeWindow reads a window the store kept.
func DecodeWindow(timeZone, hours string) (Window, error) {
	w := Window{TimeZone: timeZone}
	if err := json.Unmarshal([]byte(hours), &w.Hours); err != nil {
		return w, fmt.Errorf("campaign: stored hours: %w", err)
	}
	return w, nil
}
