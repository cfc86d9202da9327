package rating

import (
	"context"
	"time"
)

// Watch runs while the answered call is connected: warn is called once,
// Warning before the credit runs out, and Watch returns true when the
// call must be cut because its price would pass the credit; false when
// ctx ends first (the call ended).
func (c *Call) Watch(ctx context.Context, warn func()) bool {
	m := c.m
	clk := m.clock()
	m.mu.Lock()
	c.answeredAt = clk.Now()
	m.mu.Unlock()
	warning, recheck := m.Warning, m.Recheck
	if warning <= 0 {
		warning = time.Minute
	}
	if recheck <= 0 {
		recheck = 30 * time.Second
	}
	warned := false
	for {
		rem, err := m.remaining(ctx, c)
		if err != nil {
			if ctx.Err() != nil {
				return false
			}
			// The call goes on: a store that cannot answer must not cut
			// calls; it is looked at again soon.
			m.log().Error("rating: credit of a call in progress", "call_id", c.id, "error", err)
			rem = Unlimited
		}
		wait := recheck
		if cut := CutAfter(c.rate, rem); cut != Unlimited {
			now := clk.Now()
			deadline := c.answeredAt.Add(time.Duration(cut) * time.Second)
			if !now.Before(deadline) {
				m.log().Info("rating: call cut at the credit limit", "call_id", c.id, "tenant_id", c.tenantID, "user_id", c.userID)
				return true
			}
			if !warned && !now.Before(deadline.Add(-warning)) {
				warned = true
				warn()
			}
			next := deadline.Sub(now)
			if !warned {
				next = deadline.Add(-warning).Sub(now)
			}
			wait = min(wait, next)
		}
		select {
		case <-ctx.Done():
			return false
		case <-clk.After(wait):
		}
	}
}
