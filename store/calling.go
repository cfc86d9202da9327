package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// TenantCalling is a tenant's rules for calls to the public network: the
// number presented for users who chose none, and its barring. A tenant
// that never set them has the defaults: no main number, premium-rate
// numbers barred, international calls allowed.
type TenantCalling struct {
	TenantID string
	// MainNumberID is one of the tenant's numbers ("" none); MainNumber
	// is its E.164 form (read only). Releasing the number clears it.
	MainNumberID, MainNumber string
	BarPremium               bool
	BarInternational         bool
	UpdatedAt                time.Time
}

// DefaultTenantCalling is the calling rules of a tenant that set none.
func DefaultTenantCalling(tenantID string) TenantCalling {
	return TenantCalling{TenantID: tenantID, BarPremium: true}
}

// TenantCalling returns a tenant's calling rules (the defaults when it set
// none).
func (s *Store) TenantCalling(ctx context.Context, tenantID string) (TenantCalling, error) {
	c := DefaultTenantCalling(tenantID)
	var numID, e164 sql.NullString
	var premium, intl int
	var updated int64
	err := s.r.QueryRowContext(ctx, `SELECT c.main_number_id, n.e164, c.bar_premium, c.bar_international, c.updated_at
		FROM tenant_calling c LEFT JOIN numbers n ON n.id = c.main_number_id AND n.tenant_id = c.tenant_id
		WHERE c.tenant_id = ?`, tenantID).Scan(&numID, &e164, &premium, &intl, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return c, nil
	}
	if err != nil {
		return TenantCalling{}, err
	}
	if e164.Valid {
		c.MainNumberID, c.MainNumber = numID.String, e164.String
	}
	c.BarPremium, c.BarInternational, c.UpdatedAt = premium != 0, intl != 0, timeOrZero(updated)
	return c, nil
}

// SetTenantCalling replaces a tenant's calling rules. A main number that
// is not the tenant's is ErrNotFound.
func (s *Store) SetTenantCalling(ctx context.Context, c TenantCalling) error {
	c.UpdatedAt = time.Now().UTC().Truncate(time.Second)
	return s.tx(ctx, func(tx *sql.Tx) error {
		if c.MainNumberID != "" {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM numbers WHERE tenant_id=? AND id=?`, c.TenantID, c.MainNumberID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return fmt.Errorf("number %q: %w", c.MainNumberID, ErrNotFound)
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO tenant_calling(tenant_id, main_number_id, bar_premium, bar_international, updated_at)
			VALUES (?,?,?,?,?) ON CONFLICT (tenant_id) DO UPDATE SET main_number_id = excluded.main_number_id,
			bar_premium = excluded.bar_premium, bar_international = excluded.bar_international, updated_at = excluded.updated_at`,
			c.TenantID, nullStr(c.MainNumberID), b2i(c.BarPremium), b2i(c.BarInternational), c.UpdatedAt.Unix())
		if isForeignKey(err) {
			return fmt.Errorf("tenant %q: %w", c.TenantID, ErrNotFound)
		}
		return err
	})
}
