package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Tenant is a customer.
type Tenant struct {
	ID           string
	Name         string
	Domain       string // SIP domain and digest realm of its devices
	BillingState string
	// SIPDigest lists the digest algorithms its devices are challenged with,
	// comma-separated in order of preference ("SHA-256,MD5", "MD5"); empty
	// means the server's default.
	SIPDigest string
	// Timezone is the IANA time zone of its schedules ("" = Europe/Brussels).
	Timezone string
	// Language of the prompts its callers hear when a user has none
	// ("" = the server's default).
	Language  string
	CreatedAt time.Time
}

// Site is a civic address used for emergency calls.
type Site struct {
	ID, TenantID, Name               string
	Street, Number, PostalCode, City string
	Country                          string
	// EmergencyNumber is the site's own E.164 number, registered at its
	// address in the carrier's records: emergency calls through a trunk
	// with an EmergencySiteIdentity present it (nomadic use). Empty: none.
	EmergencyNumber string
	CreatedAt       time.Time
}

// CreateTenant inserts t; ID and CreatedAt are filled in when empty.
func (s *Store) CreateTenant(ctx context.Context, t Tenant) (Tenant, error) {
	if t.ID == "" {
		t.ID = NewID("ten")
	}
	if t.BillingState == "" {
		t.BillingState = "active"
	}
	t.CreatedAt = time.Now().UTC().Truncate(time.Second)
	_, err := s.w.ExecContext(ctx, `INSERT INTO tenants(id, name, domain, billing_state, sip_digest, timezone, language, created_at) VALUES (?,?,?,?,?,?,?,?)`,
		t.ID, t.Name, t.Domain, t.BillingState, t.SIPDigest, t.Timezone, t.Language, t.CreatedAt.Unix())
	if isUnique(err) {
		return Tenant{}, fmt.Errorf("tenant domain %q: %w", t.Domain, ErrConflict)
	}
	return t, err
}

const tenantCols = `id, name, domain, billing_state, sip_digest, timezone, language, created_at`

func scanTenant(row interface{ Scan(...any) error }) (Tenant, error) {
	var t Tenant
	var created int64
	err := row.Scan(&t.ID, &t.Name, &t.Domain, &t.BillingState, &t.SIPDigest, &t.Timezone, &t.Language, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Tenant{}, ErrNotFound
	}
	t.CreatedAt = timeOrZero(created)
	return t, err
}

// Tenant returns the tenant with this id.
func (s *Store) Tenant(ctx context.Context, id string) (Tenant, error) {
	return s.cachedTenant(ctx, id)
}

// TenantByDomain returns the tenant whose SIP domain is domain.
func (s *Store) TenantByDomain(ctx context.Context, domain string) (Tenant, error) {
	return scanTenant(s.r.QueryRowContext(ctx, `SELECT `+tenantCols+` FROM tenants WHERE domain = ?`, domain))
}

// Tenants lists every tenant, oldest first.
func (s *Store) Tenants(ctx context.Context) ([]Tenant, error) {
	return collect(scanTenant)(s.r.QueryContext(ctx, `SELECT `+tenantCols+` FROM tenants ORDER BY created_at, id`))
}

// SetTenantBillingState changes the billing state of a tenant.
func (s *Store) SetTenantBillingState(ctx context.Context, id, state string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE tenants SET billing_state = ? WHERE id = ?`, state, id)
	return affected(res, err)
}

// UpdateTenant replaces the name, the digest algorithms, the time zone and
// the language of a tenant.
func (s *Store) UpdateTenant(ctx context.Context, t Tenant) error {
	res, err := s.w.ExecContext(ctx, `UPDATE tenants SET name = ?, sip_digest = ?, timezone = ?, language = ? WHERE id = ?`,
		t.Name, t.SIPDigest, t.Timezone, t.Language, t.ID)
	return affected(res, err)
}

// DigestPolicies maps the SIP domain of every tenant that chose its own
// digest algorithms to its choice (Tenant.SIPDigest).
func (s *Store) DigestPolicies(ctx context.Context) (map[string]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT domain, sip_digest FROM tenants WHERE sip_digest != ''`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var domain, algs string
		if err := rows.Scan(&domain, &algs); err != nil {
			return nil, err
		}
		out[domain] = algs
	}
	return out, rows.Err()
}

// DeleteTenant erases a tenant and everything it owns.
func (s *Store) DeleteTenant(ctx context.Context, id string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM tenants WHERE id = ?`, id)
	return affected(res, err)
}

func affected(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// CreateSite inserts a site of a tenant.
func (s *Store) CreateSite(ctx context.Context, st Site) (Site, error) {
	if st.ID == "" {
		st.ID = NewID("site")
	}
	if st.Country == "" {
		st.Country = "BE"
	}
	st.CreatedAt = time.Now().UTC().Truncate(time.Second)
	_, err := s.w.ExecContext(ctx, `INSERT INTO sites(id, tenant_id, name, street, number, postal_code, city, country, emergency_number, created_at)
		VALUES (?,?,?,?,?,?,?,?,?,?)`, st.ID, st.TenantID, st.Name, st.Street, st.Number, st.PostalCode, st.City, st.Country, st.EmergencyNumber, st.CreatedAt.Unix())
	if isForeignKey(err) {
		return Site{}, ErrNotFound
	}
	return st, err
}

const siteCols = `id, tenant_id, name, street, number, postal_code, city, country, emergency_number, created_at`

func scanSite(row interface{ Scan(...any) error }) (Site, error) {
	var st Site
	var created int64
	err := row.Scan(&st.ID, &st.TenantID, &st.Name, &st.Street, &st.Number, &st.PostalCode, &st.City, &st.Country, &st.EmergencyNumber, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Site{}, ErrNotFound
	}
	st.CreatedAt = timeOrZero(created)
	return st, err
}

// Site returns a site of a tenant.
func (s *Store) Site(ctx context.Context, tenantID, id string) (Site, error) {
	return scanSite(s.r.QueryRowContext(ctx, `SELECT `+siteCols+` FROM sites WHERE tenant_id = ? AND id = ?`, tenantID, id))
}

// Sites lists a tenant's sites.
func (s *Store) Sites(ctx context.Context, tenantID string) ([]Site, error) {
	return collect(scanSite)(s.r.QueryContext(ctx, `SELECT `+siteCols+` FROM sites WHERE tenant_id = ? ORDER BY created_at, id`, tenantID))
}

// UpdateSite replaces the address fields and emergency number of a site.
func (s *Store) UpdateSite(ctx context.Context, st Site) error {
	res, err := s.w.ExecContext(ctx, `UPDATE sites SET name=?, street=?, number=?, postal_code=?, city=?, country=?, emergency_number=? WHERE tenant_id=? AND id=?`,
		st.Name, st.Street, st.Number, st.PostalCode, st.City, st.Country, st.EmergencyNumber, st.TenantID, st.ID)
	return affected(res, err)
}

// DeleteSite removes a site; users pointing at it lose their site.
func (s *Store) DeleteSite(ctx context.Context, tenantID, id string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM sites WHERE tenant_id = ? AND id = ?`, tenantID, id)
	return affected(res, err)
}
