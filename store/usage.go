package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// UsageRow is the calls of one licence to one destination class.
type UsageRow struct {
	UserID, Class         string
	Calls, Seconds, Cents int64
}

// Usage sums a tenant's priced calls that started in [from, to) by
// licence and destination class.
func (s *Store) Usage(ctx context.Context, tenantID string, from, to time.Time) ([]UsageRow, error) {
	return collect(func(r interface{ Scan(...any) error }) (UsageRow, error) {
		var u UsageRow
		err := r.Scan(&u.UserID, &u.Class, &u.Calls, &u.Seconds, &u.Cents)
		return u, err
	})(s.r.QueryContext(ctx, `SELECT user_id, class, COUNT(*), COALESCE(SUM(seconds), 0), COALESCE(SUM(cents), 0)
		FROM cdr_prices WHERE tenant_id = ? AND start_at >= ? AND start_at < ? GROUP BY user_id, class ORDER BY user_id, class`,
		tenantID, from.UnixMilli(), to.UnixMilli()))
}

// CallPattern is what the fair-use report reads of one licence's calls.
type CallPattern struct {
	UserID          string
	Seconds         int64
	DistinctNumbers int64
}

// CallPatterns gives, per licence, the seconds of calls to the public
// network and the distinct numbers called in [from, to).
func (s *Store) CallPatterns(ctx context.Context, tenantID string, from, to time.Time) ([]CallPattern, error) {
	return collect(func(r interface{ Scan(...any) error }) (CallPattern, error) {
		var c CallPattern
		err := r.Scan(&c.UserID, &c.Seconds, &c.DistinctNumbers)
		return c, err
	})(s.r.QueryContext(ctx, `SELECT user_id, COALESCE(SUM(seconds), 0), COUNT(DISTINCT number)
		FROM cdr_prices WHERE tenant_id = ? AND start_at >= ? AND start_at < ? GROUP BY user_id ORDER BY user_id`,
		tenantID, from.UnixMilli(), to.UnixMilli()))
}

// LongCalls counts one licence's calls to one number.
type LongCalls struct {
	UserID, Number string
	Calls          int64
}

// LongCallsTo lists, per licence and number, the calls longer than
// seconds made in [from, to), where there were at least minCalls.
func (s *Store) LongCallsTo(ctx context.Context, tenantID string, from, to time.Time, seconds, minCalls int64) ([]LongCalls, error) {
	return collect(func(r interface{ Scan(...any) error }) (LongCalls, error) {
		var l LongCalls
		err := r.Scan(&l.UserID, &l.Number, &l.Calls)
		return l, err
	})(s.r.QueryContext(ctx, `SELECT user_id, number, COUNT(*) FROM cdr_prices
		WHERE tenant_id = ? AND start_at >= ? AND start_at < ? AND seconds > ?
		GROUP BY user_id, number HAVING COUNT(*) >= ? ORDER BY user_id, number`,
		tenantID, from.UnixMilli(), to.UnixMilli(), seconds, minCalls))
}

// UsageCounts are the licences and numbers a month is billed for.
type UsageCounts struct {
	FullLicences, LightLicences, Numbers int64
}

// CountInventory counts the full and light licences and the numbers a
// tenant had at some time in [start, end): those that exist and were made
// before end, and those terminated since start (kept in terminations).
// Every started month counts: a licence made or ended during a month is
// billed for the whole of it.
func (s *Store) CountInventory(ctx context.Context, tenantID string, start, end time.Time) (UsageCounts, error) {
	var c UsageCounts
	e, b := end.Unix(), start.Unix()
	err := s.r.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM users WHERE tenant_id = ? AND licence = 'full' AND created_at < ?)
			+ (SELECT COUNT(*) FROM terminations WHERE tenant_id = ? AND kind = 'full' AND created_at < ? AND ended_at >= ?),
		(SELECT COUNT(*) FROM users WHERE tenant_id = ? AND licence = 'light' AND created_at < ?)
			+ (SELECT COUNT(*) FROM terminations WHERE tenant_id = ? AND kind = 'light' AND created_at < ? AND ended_at >= ?),
		(SELECT COUNT(*) FROM numbers WHERE tenant_id = ? AND created_at < ?)
			+ (SELECT COUNT(*) FROM terminations WHERE tenant_id = ? AND kind = 'number' AND created_at < ? AND ended_at >= ?)`,
		tenantID, e, tenantID, e, b, tenantID, e, tenantID, e, b, tenantID, e, tenantID, e, b).Scan(&c.FullLicences, &c.LightLicences, &c.Numbers)
	return c, err
}

// ClosedMonthCounts returns the counts kept for a closed month; the first
// call for a month keeps c (counted by the caller at that time), so that
// the summary of a month never changes once given.
func (s *Store) ClosedMonthCounts(ctx context.Context, tenantID, month string, c UsageCounts) (UsageCounts, error) {
	if _, err := s.w.ExecContext(ctx, `INSERT INTO usage_counts(tenant_id, month, full_licences, light_licences, numbers) VALUES (?,?,?,?,?)
		ON CONFLICT (tenant_id, month) DO NOTHING`, tenantID, month, c.FullLicences, c.LightLicences, c.Numbers); err != nil {
		if isForeignKey(err) {
			return UsageCounts{}, ErrNotFound
		}
		return UsageCounts{}, err
	}
	var out UsageCounts
	err := s.r.QueryRowContext(ctx, `SELECT full_licences, light_licences, numbers FROM usage_counts WHERE tenant_id = ? AND month = ?`, tenantID, month).
		Scan(&out.FullLicences, &out.LightLicences, &out.Numbers)
	return out, err
}

// ExportedCDR is a call record with its price, if it has one.
type ExportedCDR struct {
	CDR
	Priced bool
	UserID string
	Class  string
	Cents  int64
}

// ExportCDRs returns at most limit of a tenant's records that started in
// [from, to), oldest first, after the record (afterStart, afterID) (a zero
// afterID: from the first): keyset pages, so that a long export costs
// the same for each page and holds one page at a time.
func (s *Store) ExportCDRs(ctx context.Context, tenantID string, from, to time.Time, afterStart time.Time, afterID string, limit int) ([]ExportedCDR, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT c.id, c.tenant_id, c.call_id, c.caller, c.callee, c.start_at, c.answer_at, c.end_at, c.billable_seconds,
			c.disposition, c.hangup_cause, c.origin, COALESCE(p.cdr_id, ''), COALESCE(p.user_id, ''), COALESCE(p.class, ''), COALESCE(p.cents, 0)
		FROM cdrs c LEFT JOIN cdr_prices p ON p.cdr_id = c.id
		WHERE c.tenant_id = ? AND c.start_at >= ? AND c.start_at < ? AND (c.start_at > ? OR (c.start_at = ? AND c.id > ?))
		ORDER BY c.start_at, c.id LIMIT ?`,
		tenantID, from.UnixMilli(), to.UnixMilli(), afterStart.UnixMilli(), afterStart.UnixMilli(), afterID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]ExportedCDR, 0, limit)
	for rows.Next() {
		var e ExportedCDR
		var st, an, en int64
		var priced string
		if err := rows.Scan(&e.ID, &e.TenantID, &e.CallID, &e.Caller, &e.Callee, &st, &an, &en, &e.BillableSeconds, &e.Disposition, &e.HangupCause, &e.Origin,
			&priced, &e.UserID, &e.Class, &e.Cents); err != nil {
			return nil, err
		}
		e.Start, e.End = time.UnixMilli(st).UTC(), time.UnixMilli(en).UTC()
		if an != 0 {
			e.Answer = time.UnixMilli(an).UTC()
		}
		e.Priced = priced != ""
		out = append(out, e)
	}
	return out, rows.Err()
}

// CDRStart is the start of one of a tenant's records (an export's cursor).
func (s *Store) CDRStart(ctx context.Context, tenantID, id string) (time.Time, error) {
	var st int64
	err := s.r.QueryRowContext(ctx, `SELECT start_at FROM cdrs WHERE tenant_id = ? AND id = ?`, tenantID, id).Scan(&st)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, ErrNotFound
	}
	return time.UnixMilli(st).UTC(), err
}
