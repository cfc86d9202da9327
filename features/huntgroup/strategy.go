// Package huntgroup owns hunt groups and their queues: which members ring,
// in which order (ring all, linear, round robin, longest idle, random), who
// is skipped (do not disturb, already in a call, no registered device), the
// queue where callers wait with music, first come first served, until a
// member is free, and the overflow when nobody answers in time. It is a
// short program on the call-control primitives (package callctl).
package huntgroup

import (
	"math/rand/v2"
	"slices"
	"time"
)

// Strategy is how a group rings its members.
type Strategy string

// Strategies.
const (
	RingAll     Strategy = "ring_all"     // every free member at once
	Linear      Strategy = "linear"       // one after the other, in the group's order
	RoundRobin  Strategy = "round_robin"  // one after the other, starting after the member who last answered
	LongestIdle Strategy = "longest_idle" // one after the other, the member idle longest first
	Random      Strategy = "random"       // one after the other, in a random order
)

// Valid reports whether s is a known strategy.
func (s Strategy) Valid() bool {
	return slices.Contains([]Strategy{RingAll, Linear, RoundRobin, LongestIdle, Random}, s)
}

// Member is a member's state when the group rings.
type Member struct {
	UserID string
	// DND: do not disturb; Busy: in a call (and call waiting not allowed);
	// Registered: has at least one registered device.
	DND, Busy, Registered bool
	// LastCallEnded is when the member's last call ended (zero: never).
	LastCallEnded time.Time
}

// Free reports whether the member can be rung now.
func (m Member) Free() bool { return m.Registered && !m.DND && !m.Busy }

// Order returns the members to ring now, in ring order: members that are
// not free are skipped. lastAnswered is the member who last answered a
// call of the group (round robin resumes after it); rnd shuffles for
// Random (nil: the package's generator).
func Order(s Strategy, members []Member, lastAnswered string, rnd *rand.Rand) []Member {
	out := make([]Member, 0, len(members))
	switch s {
	case RoundRobin:
		start := 0
		for i, m := range members {
			if m.UserID == lastAnswered {
				start = i + 1
			}
		}
		for i := range members {
			out = append(out, members[(start+i)%len(members)])
		}
	default:
		out = append(out, members...)
	}
	out = slices.DeleteFunc(out, func(m Member) bool { return !m.Free() })
	switch s {
	case LongestIdle:
		// Never having had a call is the longest idle of all; ties keep
		// the group's order.
		slices.SortStableFunc(out, func(a, b Member) int { return a.LastCallEnded.Compare(b.LastCallEnded) })
	case Random:
		shuffle := rand.Shuffle
		if rnd != nil {
			shuffle = rnd.Shuffle
		}
		shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	}
	return out
}
