package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// The do-not-call lists: the platform's (Belgium's "Bel-me-niet-meer"
// register, imported whole) and each tenant's own opt-outs. Numbers are
// E.164.

// ReplacePlatformDNC replaces the platform's list with numbers in one
// transaction: the registry distributes the whole list each time, and
// a number it dropped may be called again.
func (s *Store) ReplacePlatformDNC(ctx context.Context, numbers []string, now time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM platform_dnc`); err != nil {
			return err
		}
		for _, n := range numbers {
			if _, err := tx.ExecContext(ctx, `INSERT INTO platform_dnc(number, imported_at) VALUES (?,?) ON CONFLICT (number) DO NOTHING`, n, now.Unix()); err != nil {
				return err
			}
		}
		return nil
	})
}

// PlatformDNCCount is how many numbers the platform's list holds.
func (s *Store) PlatformDNCCount(ctx context.Context) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM platform_dnc`).Scan(&n)
	return n, err
}

// AddTenantDNC puts a number on a tenant's list; source says how (api,
// keypad). Adding one already there is no error.
func (s *Store) AddTenantDNC(ctx context.Context, tenantID, number, source string, now time.Time) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO tenant_dnc(tenant_id, number, source, created_at) VALUES (?,?,?,?)
		ON CONFLICT (tenant_id, number) DO NOTHING`, tenantID, number, source, now.Unix())
	if isForeignKey(err) {
		return ErrNotFound
	}
	return err
}

// RemoveTenantDNC takes a number off a tenant's list (ErrNotFound if it
// is not there).
func (s *Store) RemoveTenantDNC(ctx context.Context, tenantID, number string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM tenant_dnc WHERE tenant_id = ? AND number = ?`, tenantID, number)
	return affected(res, err)
}

// TenantDNC lists a tenant's own list, by number.
func (s *Store) TenantDNC(ctx context.Context, tenantID string) ([]string, error) {
	return collect(func(row interface{ Scan(...any) error }) (string, error) {
		var n string
		err := row.Scan(&n)
		return n, err
	})(s.r.QueryContext(ctx, `SELECT number FROM tenant_dnc WHERE tenant_id = ? ORDER BY number`, tenantID))
}

// DoNotCall says which list, if any, forbids a tenant to call number:
// "platform", "tenant", or "".
func (s *Store) DoNotCall(ctx context.Context, tenantID, number string) (string, error) {
	var one int
	err := s.r.QueryRowContext(ctx, `SELECT 1 FROM platform_dnc WHERE number = ?`, number).Scan(&one)
	if err == nil {
		return "platform", nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	err = s.r.QueryRowContext(ctx, `SELECT 1 FROM tenant_dnc WHERE tenant_id = ? AND number = ?`, tenantID, number).Scan(&one)
	if err == nil {
		return "tenant", nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return "", err
}
