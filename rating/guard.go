package rating

import (
	"context"
	"time"

	"pbx/store"
)

// afterPrice acts on a call just priced (price, started at start): a
// credit limit it reached (the tenant moved to restricted when it asks
// so, the administrators told) and a spending burst (the guard blocks
// the licence or the tenant).
func (m *Meter) afterPrice(ctx context.Context, c *Call, start time.Time, price Cents) error {
	if price <= 0 {
		return nil
	}
	if err := m.creditReached(ctx, c, start, price); err != nil {
		return err
	}
	return m.fraudCheck(ctx, c)
}

// creditReached tells the administrators of the limit this call's price
// reached, once: when the month's spending went from below to at or
// over the limit.
func (m *Meter) creditReached(ctx context.Context, c *Call, start time.Time, price Cents) error {
	tl, ul, auto, err := m.limits(ctx, c.tenantID, c.userID)
	if err != nil {
		return err
	}
	month := MonthOf(start)
	crossed := func(userID string, limit Cents) (bool, Cents, error) {
		spent, err := m.Store.Spent(ctx, c.tenantID, userID, month.Start(), month.End())
		s := Cents(spent)
		return err == nil && limit > 0 && s >= limit && s-price < limit, s, err
	}
	if ok, spent, err := crossed("", tl); err != nil {
		return err
	} else if ok {
		data := map[string]any{"month": month.String(), "limit_cents": int64(tl), "spent_cents": int64(spent), "restricted": false}
		if auto {
			t, err := m.Store.Tenant(ctx, c.tenantID)
			if err != nil {
				return err
			}
			if t.BillingState == "active" {
				if err := m.Store.SetTenantBillingState(ctx, c.tenantID, "restricted"); err != nil {
					return err
				}
				data["restricted"] = true
			}
		}
		m.log().Warn("rating: tenant credit limit reached", "tenant_id", c.tenantID, "month", month.String(), "spent_cents", int64(spent), "restricted", data["restricted"])
		m.notify(ctx, c.tenantID, EventCreditLimit, data)
	}
	if c.userID != "" {
		if ok, spent, err := crossed(c.userID, ul); err != nil {
			return err
		} else if ok {
			m.log().Info("rating: licence credit limit reached", "tenant_id", c.tenantID, "user_id", c.userID, "spent_cents", int64(spent))
			m.notify(ctx, c.tenantID, EventUserCreditLimit, map[string]any{"user_id": c.userID, "month": month.String(), "limit_cents": int64(ul), "spent_cents": int64(spent)})
		}
	}
	return nil
}

// fraudCheck compares the last hour's spending of the call's licence and
// of its tenant with their usual hour; a burst blocks international and
// premium calls (of the licence, or of the whole tenant) until an
// administrator lifts it.
func (m *Meter) fraudCheck(ctx context.Context, c *Call) error {
	now := m.clock().Now()
	hourAgo := now.Add(-time.Hour)
	rule := m.fraudRule()
	scopes := []string{""}
	if c.userID != "" {
		scopes = []string{c.userID, ""}
	}
	for _, userID := range scopes {
		// Spending before an administrator lifted a block was looked at
		// already: the hour counts from the lift.
		lifted, err := m.Store.FraudLiftedAt(ctx, c.tenantID, userID)
		if err != nil {
			return err
		}
		from := hourAgo
		if lifted.After(from) {
			from = lifted
		}
		last, err := m.Store.Spent(ctx, c.tenantID, userID, from, now.Add(time.Millisecond))
		if err != nil {
			return err
		}
		history, err := m.Store.Spent(ctx, c.tenantID, userID, hourAgo.Add(-FraudWindow), hourAgo)
		if err != nil {
			return err
		}
		if !rule.Tripped(Cents(last), Cents(history)) {
			continue
		}
		created, err := m.Store.BlockFraud(ctx, store.FraudBlock{TenantID: c.tenantID, UserID: userID, At: now,
			Reason: "spending of the last hour " + Cents(last).String() + " EUR over the usual pattern"})
		if err != nil {
			return err
		}
		if created {
			scope := "user"
			if userID == "" {
				scope = "tenant"
			}
			m.log().Warn("rating: toll-fraud guard tripped: international and premium calls blocked", "tenant_id", c.tenantID, "user_id", userID,
				"last_hour_cents", last, "history_cents", history)
			m.notify(ctx, c.tenantID, EventFraudBlock, map[string]any{"scope": scope, "user_id": userID, "last_hour_cents": last, "history_30d_cents": history})
		}
	}
	return nil
}

func (m *Meter) notify(ctx context.Context, tenantID, event string, data map[string]any) {
	if m.Notify != nil {
		m.Notify.Notify(ctx, tenantID, event, data)
	}
}
