package rating

import (
	"context"
	"slices"
	"time"

	"pbx/store"
)

// ReportStore is what the monthly reports read; *store.Store has it.
type ReportStore interface {
	Usage(ctx context.Context, tenantID string, from, to time.Time) ([]store.UsageRow, error)
	CountInventory(ctx context.Context, tenantID string, start, end time.Time) (store.UsageCounts, error)
	ClosedMonthCounts(ctx context.Context, tenantID, month string, c store.UsageCounts) (store.UsageCounts, error)
	CallPatterns(ctx context.Context, tenantID string, from, to time.Time) ([]store.CallPattern, error)
	LongCallsTo(ctx context.Context, tenantID string, from, to time.Time, seconds, minCalls int64) ([]store.LongCalls, error)
	Users(ctx context.Context, tenantID string) ([]store.User, error)
	Numbers(ctx context.Context, tenantID string) ([]store.Number, error)
}

// Amounts are calls, their billed seconds and their price.
type Amounts struct {
	Calls, Seconds int64
	Cents          Cents
}

func (a *Amounts) add(r store.UsageRow) {
	a.Calls += r.Calls
	a.Seconds += r.Seconds
	a.Cents += Cents(r.Cents)
}

// Minutes are the seconds in whole minutes, a started minute counting.
func (a Amounts) Minutes() int64 { return (a.Seconds + 59) / 60 }

// UserUsage is one licence's calls in a month ("" for the calls the
// tenant's numbers forwarded).
type UserUsage struct {
	UserID  string
	Total   Amounts
	ByClass map[Class]Amounts
}

// Usage is what a tenant is billed for a month.
type Usage struct {
	Month Month
	// Licences and numbers: those at the end of the month, each counted
	// for the whole month however late in it it began; once the month
	// is over, the counts first given are kept.
	FullLicences, LightLicences, Numbers int64
	Total                                Amounts
	ByClass                              map[Class]Amounts
	ByUser                               []UserUsage
}

// Report sums a tenant's month; now says whether the month is over.
func Report(ctx context.Context, st ReportStore, tenantID string, m Month, now time.Time) (Usage, error) {
	u := Usage{Month: m, ByClass: map[Class]Amounts{}}
	counts, err := st.CountInventory(ctx, tenantID, m.Start(), m.End())
	if err != nil {
		return Usage{}, err
	}
	if !now.Before(m.End()) {
		if counts, err = st.ClosedMonthCounts(ctx, tenantID, m.String(), counts); err != nil {
			return Usage{}, err
		}
	}
	u.FullLicences, u.LightLicences, u.Numbers = counts.FullLicences, counts.LightLicences, counts.Numbers
	rows, err := st.Usage(ctx, tenantID, m.Start(), m.End())
	if err != nil {
		return Usage{}, err
	}
	for _, r := range rows { // ordered by user
		if len(u.ByUser) == 0 || u.ByUser[len(u.ByUser)-1].UserID != r.UserID {
			u.ByUser = append(u.ByUser, UserUsage{UserID: r.UserID, ByClass: map[Class]Amounts{}})
		}
		uu := &u.ByUser[len(u.ByUser)-1]
		uu.Total.add(r)
		a := uu.ByClass[Class(r.Class)]
		a.add(r)
		uu.ByClass[Class(r.Class)] = a
		u.Total.add(r)
		ca := u.ByClass[Class(r.Class)]
		ca.add(r)
		u.ByClass[Class(r.Class)] = ca
	}
	return u, nil
}

// FairUseLimits are the thresholds of the fair-use report; the defaults
// are the service's published terms for unlimited plans.
type FairUseLimits struct {
	MaxHours        int64 // call hours per licence and month
	MaxNumbers      int64 // distinct numbers called per licence and month
	LongCallMinutes int64 // a call longer than this to one number ...
	LongCallRepeats int64 // ... made this many times in the month
}

// DefaultFairUse: 15 hours, 150 numbers, calls over an hour to one number
// repeated (twice or more).
var DefaultFairUse = FairUseLimits{MaxHours: 15, MaxNumbers: 150, LongCallMinutes: 60, LongCallRepeats: 2}

// Fair-use flags.
const (
	FlagHours            = "hours"
	FlagDistinctNumbers  = "distinct_numbers"
	FlagPermanentForward = "permanent_forward"
	FlagLongCalls        = "long_calls"
)

// FairUseRow is one licence's use, or one public number's forward.
type FairUseRow struct {
	UserID, NumberID string
	Seconds          int64
	DistinctNumbers  int64
	// PermanentForward is the external number the licence or number
	// forwards every call to, "" if none.
	PermanentForward string
	LongCalls        []store.LongCalls
	Flags            []string
}

// FairUse reads a tenant's month against the limits: every licence
// gets a row (also the licences that made no call), then the public
// numbers that lead straight to an external number.
func FairUse(ctx context.Context, st ReportStore, tenantID string, m Month, lim FairUseLimits) ([]FairUseRow, error) {
	users, err := st.Users(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	pats, err := st.CallPatterns(ctx, tenantID, m.Start(), m.End())
	if err != nil {
		return nil, err
	}
	long, err := st.LongCallsTo(ctx, tenantID, m.Start(), m.End(), lim.LongCallMinutes*60, max(lim.LongCallRepeats, 1))
	if err != nil {
		return nil, err
	}
	nums, err := st.Numbers(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	var rows []FairUseRow
	at := map[string]int{}
	row := func(userID string) *FairUseRow {
		i, ok := at[userID]
		if !ok {
			i = len(rows)
			at[userID] = i
			rows = append(rows, FairUseRow{UserID: userID})
		}
		return &rows[i]
	}
	for _, u := range users {
		r := row(u.ID)
		if External(u.ForwardAlways) {
			r.PermanentForward = u.ForwardAlways
		}
	}
	for _, p := range pats {
		r := row(p.UserID)
		r.Seconds, r.DistinctNumbers = p.Seconds, p.DistinctNumbers
	}
	for _, l := range long {
		r := row(l.UserID)
		r.LongCalls = append(r.LongCalls, l)
	}
	for _, n := range nums {
		if n.Destination.Type == "external" {
			rows = append(rows, FairUseRow{NumberID: n.ID, PermanentForward: n.Destination.Number})
		}
	}
	for i := range rows {
		r := &rows[i]
		if r.Seconds > lim.MaxHours*3600 {
			r.Flags = append(r.Flags, FlagHours)
		}
		if r.DistinctNumbers > lim.MaxNumbers {
			r.Flags = append(r.Flags, FlagDistinctNumbers)
		}
		if r.PermanentForward != "" {
			r.Flags = append(r.Flags, FlagPermanentForward)
		}
		if len(r.LongCalls) > 0 {
			r.Flags = append(r.Flags, FlagLongCalls)
		}
		slices.Sort(r.Flags)
	}
	return rows, nil
}
