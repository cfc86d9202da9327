package registrar

import "time"

// dateValue is the Date header value of a 200 (RFC 3261 §20.17, RFC 1123
// in GMT), formatted once a second rather than for every REGISTER.
func (r *Registrar) dateValue(now time.Time) string {
	sec := now.Unix()
	if d := r.date.Load(); d != nil && d.sec == sec {
		return d.value
	}
	d := &formattedDate{sec: sec, value: now.UTC().Format(time.RFC1123)[:26] + "GMT"}
	r.date.Store(d)
	return d.value
}

type formattedDate struct {
	sec   int64
	value string
}
