package registrar

import (
	"testing"
	"time"
)

// The Date of a 200 is the second of the REGISTER's time, in GMT, however
// the times of a second and of the next follow each other.
func TestDateValue(t *testing.T) {
	r := &Registrar{}
	base := time.Date(2026, 12, 4, 20, 0, 0, 0, time.FixedZone("CET", 3600))
	for _, c := range []struct {
		at   time.Time
		want string
	}{
		{base, "Fri, 04 Dec 2026 19:00:00 GMT"},
		{base.Add(900 * time.Millisecond), "Fri, 04 Dec 2026 19:00:00 GMT"},
		{base.Add(time.Second), "Fri, 04 Dec 2026 19:00:01 GMT"},
		{base, "Fri, 04 Dec 2026 19:00:00 GMT"},
	} {
		if got := r.dateValue(c.at); got != c.want {
			t.Errorf("%v: %q, want %q", c.at, got, c.want)
		}
	}
}
