package rating

import (
	"strings"
)

// Rate is the price of calls to the numbers that begin with Prefix (the
// digits of their E.164 form, without "+").
type Rate struct {
	Prefix    string
	Name      string
	PerMinute Micro
	// Setup is charged once per answered call.
	Setup Micro
}

// Price is what an answered call of seconds billed seconds costs: the
// setup fee plus the per-minute rate for each second, the sum rounded up
// to the next cent (per call, never per second). An unanswered call (0
// seconds and no answer) is not priced: callers do not ask.
func (r Rate) Price(seconds int) Cents {
	if seconds < 0 {
		seconds = 0
	}
	// In sixtieths of a micro-euro the sum is exact: setup*60 +
	// perMinute*seconds; one cent is 60*MicroPerCent of them.
	num := int64(r.Setup)*60 + int64(r.PerMinute)*int64(seconds)
	const den = 60 * MicroPerCent
	return Cents((num + den - 1) / den)
}

// Digits is the prefix key of an E.164 number ("+3221234567" ->
// "3221234567").
func Digits(e164 string) string { return strings.TrimPrefix(e164, "+") }

// Prefixes are every leading part of an E.164 number's digits, longest
// first: the keys a rate table is searched with.
func Prefixes(e164 string) []string {
	d := Digits(e164)
	out := make([]string, 0, len(d))
	for i := len(d); i >= 1; i-- {
		out = append(out, d[:i])
	}
	return out
}

// Longest is the rate of rates whose prefix is the longest one e164
// begins with; ok is false when none matches.
func Longest(rates []Rate, e164 string) (best Rate, ok bool) {
	d := Digits(e164)
	for _, r := range rates {
		if strings.HasPrefix(d, r.Prefix) && (!ok || len(r.Prefix) > len(best.Prefix)) {
			best, ok = r, true
		}
	}
	return best, ok
}
