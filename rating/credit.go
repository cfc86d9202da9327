package rating

// DefaultTenantLimit is the service's credit line per tenant and calendar
// month when none is set: 100 euro excluding VAT.
const DefaultTenantLimit Cents = 10_000

// Unlimited is what CutAfter answers when a call can last forever (a free
// rate).
const Unlimited = -1

// CutAfter is how many seconds an answered call at rate r may last before
// its price would pass remaining: the largest s with r.Price(s) <=
// remaining. It is Unlimited for a free rate, and below 1 when not even
// one second fits (the call must not start).
func CutAfter(r Rate, remaining Cents) int64 {
	if r.PerMinute <= 0 {
		if r.Price(0) > remaining {
			return 0
		}
		return Unlimited
	}
	// r.Price(s) <= remaining  <=>  setup*60 + perMinute*s <= remaining*60*MicroPerCent
	budget := int64(remaining)*60*MicroPerCent - int64(r.Setup)*60
	if budget < 0 {
		return 0
	}
	return budget / int64(r.PerMinute)
}

// Remaining is the credit left under a limit after spent; limit 0 or less
// means no limit (Unlimited).
func Remaining(limit, spent Cents) Cents {
	if limit <= 0 {
		return Unlimited
	}
	return limit - spent
}

// Least is the smaller of two remaining credits, either of which may be
// Unlimited.
func Least(a, b Cents) Cents {
	switch {
	case a == Unlimited:
		return b
	case b == Unlimited:
		return a
	case a < b:
		return a
	}
	return b
}
