package store

import (
	"context"
	"database/sql"
	"strings"
	"time"
)

// Rate is one line of the rate table: the price of calls to numbers whose
// E.164 digits begin with Prefix, in micro-euros.
type Rate struct {
	Prefix, Name     string
	PerMinute, Setup int64
}

// CDRPrice is the rated price of one call to the public network.
type CDRPrice struct {
	CDRID, TenantID string
	UserID          string // the caller's licence; "" for a call the tenant's number forwarded
	Number          string // E.164
	Class           string
	RatePrefix      string
	Seconds         int
	Cents           int64
	Start           time.Time // the call's start, which puts it in its month
}

// ReplaceRates makes rates the whole rate table.
func (s *Store) ReplaceRates(ctx context.Context, rates []Rate) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM rates`); err != nil {
			return err
		}
		for _, r := range rates {
			if _, err := tx.ExecContext(ctx, `INSERT INTO rates(prefix, name, per_minute, setup) VALUES (?,?,?,?)`, r.Prefix, r.Name, r.PerMinute, r.Setup); err != nil {
				if isUnique(err) {
					return ErrConflict
				}
				return err
			}
		}
		return nil
	})
}

func scanRate(r interface{ Scan(...any) error }) (Rate, error) {
	var x Rate
	err := r.Scan(&x.Prefix, &x.Name, &x.PerMinute, &x.Setup)
	return x, err
}

// Rates lists the rate table by prefix.
func (s *Store) Rates(ctx context.Context) ([]Rate, error) {
	return collect(scanRate)(s.r.QueryContext(ctx, `SELECT prefix, name, per_minute, setup FROM rates ORDER BY prefix`))
}

// RatesFor returns the rates whose prefix is one of prefixes (the caller
// picks the longest) and whether the table has any rate at all.
func (s *Store) RatesFor(ctx context.Context, prefixes []string) ([]Rate, bool, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM rates`).Scan(&n); err != nil || n == 0 {
		return nil, false, err
	}
	if len(prefixes) == 0 {
		return nil, true, nil
	}
	args := make([]any, len(prefixes))
	for i, p := range prefixes {
		args[i] = p
	}
	q := `SELECT prefix, name, per_minute, setup FROM rates WHERE prefix IN (?` + strings.Repeat(",?", len(prefixes)-1) + `)`
	rs, err := collect(scanRate)(s.r.QueryContext(ctx, q, args...))
	return rs, true, err
}

const insertPrice = `INSERT INTO cdr_prices(cdr_id, tenant_id, user_id, number, class, rate_prefix, seconds, cents, start_at) VALUES (?,?,?,?,?,?,?,?,?)`

func priceArgs(p CDRPrice) []any {
	return []any{p.CDRID, p.TenantID, p.UserID, p.Number, p.Class, p.RatePrefix, p.Seconds, p.Cents, p.Start.UnixMilli()}
}

// InsertCDRPrice records the price of a call; a call is priced once
// (ErrConflict the second time).
func (s *Store) InsertCDRPrice(ctx context.Context, p CDRPrice) error {
	_, err := s.w.ExecContext(ctx, insertPrice, priceArgs(p)...)
	switch {
	case isUnique(err):
		return ErrConflict
	case isForeignKey(err):
		return ErrNotFound
	}
	return err
}

// ImportCDRs writes call records and their prices in one transaction with
// prepared statements: the fast path for loading history (a migration
// from another switch, a month of generated calls).
func (s *Store) ImportCDRs(ctx context.Context, cdrs []CDR, prices []CDRPrice) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		c, err := tx.PrepareContext(ctx, `INSERT INTO cdrs(id, tenant_id, call_id, caller, callee, start_at, answer_at, end_at, billable_seconds, disposition, hangup_cause, origin)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`)
		if err != nil {
			return err
		}
		defer c.Close()
		for _, r := range cdrs {
			if _, err := c.ExecContext(ctx, r.ID, r.TenantID, r.CallID, r.Caller, r.Callee, r.Start.UnixMilli(), unixMilliOrZero(r.Answer), r.End.UnixMilli(),
				r.BillableSeconds, r.Disposition, r.HangupCause, r.Origin); err != nil {
				return err
			}
		}
		p, err := tx.PrepareContext(ctx, insertPrice)
		if err != nil {
			return err
		}
		defer p.Close()
		for _, r := range prices {
			if _, err := p.ExecContext(ctx, priceArgs(r)...); err != nil {
				return err
			}
		}
		return nil
	})
}

// Spent is the sum of the prices of the calls of a tenant (userID "") or
// of one of its licences that started in [from, to).
func (s *Store) Spent(ctx context.Context, tenantID, userID string, from, to time.Time) (int64, error) {
	q := `SELECT COALESCE(SUM(cents), 0) FROM cdr_prices WHERE tenant_id = ? AND start_at >= ? AND start_at < ?`
	args := []any{tenantID, from.UnixMilli(), to.UnixMilli()}
	if userID != "" {
		q += ` AND user_id = ?`
		args = append(args, userID)
	}
	var n int64
	err := s.r.QueryRowContext(ctx, q, args...).Scan(&n)
	return n, err
}

// CreditLimit is a monthly credit limit: the tenant's (UserID "") or one
// licence's.
type CreditLimit struct {
	UserID string
	Cents  int64
	// AutoRestrict (the tenant's line only): reaching the limit moves the
	// tenant to the restricted billing state.
	AutoRestrict bool
}

// CreditLimits lists a tenant's limits, the tenant's own first; a tenant
// with none set has none listed (the service's default applies).
func (s *Store) CreditLimits(ctx context.Context, tenantID string) ([]CreditLimit, error) {
	return collect(func(r interface{ Scan(...any) error }) (CreditLimit, error) {
		var c CreditLimit
		var auto int
		err := r.Scan(&c.UserID, &c.Cents, &auto)
		c.AutoRestrict = auto == 1
		return c, err
	})(s.r.QueryContext(ctx, `SELECT user_id, cents, auto_restrict FROM credit_limits WHERE tenant_id = ? ORDER BY user_id`, tenantID))
}

// SetCreditLimits replaces a tenant's limits.
func (s *Store) SetCreditLimits(ctx context.Context, tenantID string, limits []CreditLimit) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM credit_limits WHERE tenant_id = ?`, tenantID); err != nil {
			return err
		}
		for _, l := range limits {
			_, err := tx.ExecContext(ctx, `INSERT INTO credit_limits(tenant_id, user_id, cents, auto_restrict) VALUES (?,?,?,?)`, tenantID, l.UserID, l.Cents, b2i(l.AutoRestrict))
			switch {
			case isForeignKey(err):
				return ErrNotFound
			case isUnique(err):
				return ErrConflict
			case err != nil:
				return err
			}
		}
		return nil
	})
}

// FraudBlock stops a tenant's (UserID "") or a licence's international
// and premium calls until an administrator lifts it.
type FraudBlock struct {
	TenantID, UserID, Reason string
	At                       time.Time
}

// BlockFraud records a block; created is false when one was already in
// force (it is kept as it was). A lifted block is replaced.
func (s *Store) BlockFraud(ctx context.Context, b FraudBlock) (created bool, err error) {
	res, err := s.w.ExecContext(ctx, `INSERT INTO fraud_blocks(tenant_id, user_id, reason, blocked_at, lifted_at) VALUES (?,?,?,?,0)
		ON CONFLICT (tenant_id, user_id) DO UPDATE SET reason = excluded.reason, blocked_at = excluded.blocked_at, lifted_at = 0
		WHERE fraud_blocks.lifted_at <> 0`, b.TenantID, b.UserID, b.Reason, b.At.UnixMilli())
	if isForeignKey(err) {
		return false, ErrNotFound
	}
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// FraudBlocks lists a tenant's blocks in force.
func (s *Store) FraudBlocks(ctx context.Context, tenantID string) ([]FraudBlock, error) {
	return collect(func(r interface{ Scan(...any) error }) (FraudBlock, error) {
		var b FraudBlock
		var at int64
		err := r.Scan(&b.TenantID, &b.UserID, &b.Reason, &at)
		b.At = time.UnixMilli(at).UTC()
		return b, err
	})(s.r.QueryContext(ctx, `SELECT tenant_id, user_id, reason, blocked_at FROM fraud_blocks WHERE tenant_id = ? AND lifted_at = 0 ORDER BY user_id`, tenantID))
}

// FraudBlocked reports whether a block of the tenant or of the licence
// userID is in force.
func (s *Store) FraudBlocked(ctx context.Context, tenantID, userID string) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM fraud_blocks WHERE tenant_id = ? AND (user_id = '' OR user_id = ?) AND lifted_at = 0`, tenantID, userID).Scan(&n)
	return n > 0, err
}

// LiftFraudBlock lifts a block at time at (ErrNotFound when none is in
// force).
func (s *Store) LiftFraudBlock(ctx context.Context, tenantID, userID string, at time.Time) error {
	res, err := s.w.ExecContext(ctx, `UPDATE fraud_blocks SET lifted_at = ? WHERE tenant_id = ? AND user_id = ? AND lifted_at = 0`, at.UnixMilli(), tenantID, userID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// FraudLiftedAt is when the last block of the tenant (userID "") or of a
// licence was lifted; zero if never.
func (s *Store) FraudLiftedAt(ctx context.Context, tenantID, userID string) (time.Time, error) {
	var at int64
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(lifted_at), 0) FROM fraud_blocks WHERE tenant_id = ? AND user_id = ?`, tenantID, userID).Scan(&at)
	if err != nil || at == 0 {
		return time.Time{}, err
	}
	return time.UnixMilli(at).UTC(), nil
}
