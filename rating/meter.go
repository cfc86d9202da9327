package rating

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"pbx/store"
)

// Store is what the meter reads and writes; *store.Store has it.
type Store interface {
	RatesFor(ctx context.Context, prefixes []string) ([]store.Rate, bool, error)
	Spent(ctx context.Context, tenantID, userID string, from, to time.Time) (int64, error)
	CreditLimits(ctx context.Context, tenantID string) ([]store.CreditLimit, error)
	FraudBlocked(ctx context.Context, tenantID, userID string) (bool, error)
	BlockFraud(ctx context.Context, b store.FraudBlock) (bool, error)
	FraudLiftedAt(ctx context.Context, tenantID, userID string) (time.Time, error)
	InsertCDRPrice(ctx context.Context, p store.CDRPrice) error
	Tenant(ctx context.Context, id string) (store.Tenant, error)
	SetTenantBillingState(ctx context.Context, id, state string) error
}

// Notifier tells a tenant's administrators of an event (a webhook).
type Notifier interface {
	Notify(ctx context.Context, tenantID, event string, data map[string]any)
}

// Clock is the time the meter cuts calls by; tests give a fake one.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Events the meter notifies.
const (
	EventCreditLimit     = "credit_limit_reached"
	EventUserCreditLimit = "user_credit_limit_reached"
	EventFraudBlock      = "toll_fraud_blocked"
)

// Refusal says why a call may not start.
type Refusal string

// Reasons a call is refused.
const (
	RefusedCredit Refusal = "credit_limit" // the month's credit is used up
	RefusedFraud  Refusal = "fraud_block"  // international or premium while the guard is tripped
	RefusedNoRate Refusal = "no_rate"      // the rate table has no price for the number
)

// Meter prices calls to the public network, keeps them within their
// tenant's and licence's monthly credit, and trips the toll-fraud guard.
// The calls it watches are those of this node (a call lives on one
// node); what they cost once ended is in the store, shared.
type Meter struct {
	Store  Store
	Notify Notifier // nil: events are logged only
	Clock  Clock    // nil: the wall clock
	Fraud  FraudRule
	// Warning is how long before the credit runs out the caller hears a
	// warning tone (default a minute); Recheck is how often a call in
	// progress looks again at what the tenant's other calls spent
	// (default 30 s).
	Warning, Recheck time.Duration
	Logger           *slog.Logger

	mu    sync.Mutex
	calls map[string]*Call // by call id
}

// Call is one call to the public network being metered.
type Call struct {
	m                            *Meter
	id, tenantID, userID, number string
	class                        Class
	rate                         Rate
	answeredAt                   time.Time // under m.mu
}

func (m *Meter) clock() Clock {
	if m.Clock != nil {
		return m.Clock
	}
	return realClock{}
}

func (m *Meter) log() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	return slog.Default()
}

func (m *Meter) fraudRule() FraudRule {
	if m.Fraud.Multiple > 0 {
		return m.Fraud
	}
	return DefaultFraudRule
}

// Begin admits a call of callID to number (E.164) by a tenant's licence
// (userID "" for a call the tenant's number forwarded): the call is
// refused while its credit is used up, while the fraud guard blocks an
// international or premium number, or when the rate table (if there is
// one) has no price for it. An admitted call is metered until Ended.
// Internal and emergency calls are free and never come here.
func (m *Meter) Begin(ctx context.Context, callID, tenantID, userID, number string) (*Call, Refusal, error) {
	c := &Call{m: m, id: callID, tenantID: tenantID, userID: userID, number: number, class: Classify(number)}
	if Guarded(number) {
		blocked, err := m.Store.FraudBlocked(ctx, tenantID, userID)
		if err != nil {
			return nil, "", err
		}
		if blocked {
			return nil, RefusedFraud, nil
		}
	}
	rates, any, err := m.Store.RatesFor(ctx, Prefixes(number))
	if err != nil {
		return nil, "", err
	}
	if any {
		best, ok := Longest(fromStore(rates), number)
		if !ok {
			return nil, RefusedNoRate, nil
		}
		c.rate = best
	}
	rem, err := m.remaining(ctx, c)
	if err != nil {
		return nil, "", err
	}
	if cut := CutAfter(c.rate, rem); cut != Unlimited && cut < 1 {
		return nil, RefusedCredit, nil
	}
	m.mu.Lock()
	if m.calls == nil {
		m.calls = map[string]*Call{}
	}
	m.calls[callID] = c
	m.mu.Unlock()
	return c, "", nil
}

func fromStore(rs []store.Rate) []Rate {
	out := make([]Rate, len(rs))
	for i, r := range rs {
		out[i] = Rate{Prefix: r.Prefix, Name: r.Name, PerMinute: Micro(r.PerMinute), Setup: Micro(r.Setup)}
	}
	return out
}

// limits are a tenant's monthly limit (the default when none is set)
// and a licence's (0: none).
func (m *Meter) limits(ctx context.Context, tenantID, userID string) (tenant, user Cents, autoRestrict bool, err error) {
	ls, err := m.Store.CreditLimits(ctx, tenantID)
	if err != nil {
		return 0, 0, false, err
	}
	tenant = DefaultTenantLimit
	for _, l := range ls {
		switch {
		case l.UserID == "":
			tenant, autoRestrict = Cents(l.Cents), l.AutoRestrict
		case l.UserID == userID:
			user = Cents(l.Cents)
		}
	}
	return tenant, user, autoRestrict, nil
}

// remaining is the credit c may still spend: the least of its tenant's
// and its licence's, after what their priced calls of the month and
// their other calls in progress here have cost so far.
func (m *Meter) remaining(ctx context.Context, c *Call) (Cents, error) {
	tl, ul, _, err := m.limits(ctx, c.tenantID, c.userID)
	if err != nil {
		return 0, err
	}
	now := m.clock().Now()
	month := MonthOf(now)
	ts, err := m.Store.Spent(ctx, c.tenantID, "", month.Start(), month.End())
	if err != nil {
		return 0, err
	}
	var us int64
	if ul > 0 {
		if us, err = m.Store.Spent(ctx, c.tenantID, c.userID, month.Start(), month.End()); err != nil {
			return 0, err
		}
	}
	tRun, uRun := m.running(c, now)
	return Least(Remaining(tl, Cents(ts)+tRun), Remaining(ul, Cents(us)+uRun)), nil
}

// running is what the other answered calls of c's tenant (and licence)
// metered here have cost up to now.
func (m *Meter) running(c *Call, now time.Time) (tenant, user Cents) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.calls {
		if o == c || o.tenantID != c.tenantID || o.answeredAt.IsZero() {
			continue
		}
		p := o.rate.Price(int(now.Sub(o.answeredAt) / time.Second))
		tenant += p
		if o.userID == c.userID && c.userID != "" {
			user += p
		}
	}
	return tenant, user
}

// Metered is the call admitted last under callID, nil if none is.
func (m *Meter) Metered(callID string) *Call {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls[callID]
}

// Forget stops metering a call that was not connected after all.
func (c *Call) Forget() {
	c.m.mu.Lock()
	if c.m.calls[c.id] == c {
		delete(c.m.calls, c.id)
	}
	c.m.mu.Unlock()
}

// Ended prices the record of a call that ended, if the meter admitted
// it: per second of its billable time, rounded up to the cent. It then
// looks whether the call used up a credit limit and whether the
// spending trips the fraud guard.
func (m *Meter) Ended(ctx context.Context, cdr store.CDR) {
	m.mu.Lock()
	c := m.calls[cdr.CallID]
	delete(m.calls, cdr.CallID)
	m.mu.Unlock()
	if c == nil || cdr.Answer.IsZero() || cdr.ID == "" {
		return
	}
	price := c.rate.Price(cdr.BillableSeconds)
	err := m.Store.InsertCDRPrice(ctx, store.CDRPrice{CDRID: cdr.ID, TenantID: c.tenantID, UserID: c.userID, Number: c.number, Class: string(c.class),
		RatePrefix: c.rate.Prefix, Seconds: cdr.BillableSeconds, Cents: int64(price), Start: cdr.Start})
	if err != nil && !errors.Is(err, store.ErrConflict) {
		m.log().Error("rating: price not recorded", "cdr_id", cdr.ID, "cents", int64(price), "error", err)
		return
	}
	if err := m.afterPrice(ctx, c, cdr.Start, price); err != nil {
		m.log().Error("rating: limits after a call", "cdr_id", cdr.ID, "error", err)
	}
}
