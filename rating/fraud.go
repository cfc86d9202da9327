package rating

import "time"

// FraudRule is the toll-fraud guard's threshold: spending in the last
// hour above Multiple times the hourly average of the 30 days before it,
// and above Floor (so that a quiet customer's first busy hour does not
// trip it).
type FraudRule struct {
	Multiple int64
	Floor    Cents
}

// DefaultFraudRule: ten times the usual hour, and at least 20 euro in the
// hour.
var DefaultFraudRule = FraudRule{Multiple: 10, Floor: 2_000}

// FraudWindow is the history the usual pattern is measured over; the
// last hour is not part of it.
const FraudWindow = 30 * 24 * time.Hour

// Tripped reports whether lastHour's spending is far above history (the
// spending of the FraudWindow before the last hour). The average is
// compared in integers: lastHour > Multiple * history / 720.
func (r FraudRule) Tripped(lastHour, history Cents) bool {
	if lastHour <= r.Floor {
		return false
	}
	hours := int64(FraudWindow / time.Hour)
	return int64(lastHour)*hours > r.Multiple*int64(history)
}
