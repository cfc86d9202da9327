package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// EmergencyCall is one call to an emergency number, as it was placed.
type EmergencyCall struct {
	ID, TenantID, UserID, DeviceID, CallID string
	Number                                 string // as dialled
	Class                                  string // on_site, remote_help
	Caller                                 string // the number presented to the emergency service
	// TrunkID is the first trunk it was sent to ("" when none existed).
	TrunkID string
	// LocationSource says where the location came from: site, register,
	// invite, or none; Location is what was sent (JSON), "" for none.
	LocationSource, Location string
	CreatedAt                time.Time
}

// RecordEmergencyCall logs an emergency call; ID and CreatedAt are filled
// in when empty.
func (s *Store) RecordEmergencyCall(ctx context.Context, c EmergencyCall) (EmergencyCall, error) {
	if c.ID == "" {
		c.ID = NewID("emc")
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = time.Now()
	}
	c.CreatedAt = c.CreatedAt.UTC().Truncate(time.Millisecond)
	_, err := s.w.ExecContext(ctx, `INSERT INTO emergency_calls(id, tenant_id, user_id, device_id, call_id, number, class, caller, trunk_id,
		location_source, location, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
		c.ID, c.TenantID, c.UserID, c.DeviceID, c.CallID, c.Number, c.Class, c.Caller, c.TrunkID, c.LocationSource, c.Location, c.CreatedAt.UnixMilli())
	if isForeignKey(err) {
		return EmergencyCall{}, ErrNotFound
	}
	return c, err
}

// EmergencyCalls lists a tenant's emergency calls, newest first, at most
// limit of them.
func (s *Store) EmergencyCalls(ctx context.Context, tenantID string, limit int) ([]EmergencyCall, error) {
	return collect(scanEmergencyCall)(s.r.QueryContext(ctx, `SELECT id, tenant_id, user_id, device_id, call_id, number, class, caller, trunk_id,
		location_source, location, created_at FROM emergency_calls WHERE tenant_id = ? ORDER BY created_at DESC, id LIMIT ?`, tenantID, limit))
}

func scanEmergencyCall(row interface{ Scan(...any) error }) (EmergencyCall, error) {
	var c EmergencyCall
	var at int64
	err := row.Scan(&c.ID, &c.TenantID, &c.UserID, &c.DeviceID, &c.CallID, &c.Number, &c.Class, &c.Caller, &c.TrunkID, &c.LocationSource, &c.Location, &at)
	c.CreatedAt = time.UnixMilli(at).UTC()
	return c, err
}

// DeviceLocation returns the PIDF-LO document of the device's unexpired
// binding that conveyed one most recently ("" when none did).
func (s *Store) DeviceLocation(ctx context.Context, deviceID string, now time.Time) (string, error) {
	var doc string
	err := s.r.QueryRowContext(ctx, `SELECT location FROM registrations WHERE device_id = ? AND expires_at > ? AND location != ''
		ORDER BY updated_at DESC, contact LIMIT 1`, deviceID, now.UnixMilli()).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return doc, err
}

// Webhook is where a tenant's administrators are told of events (an
// emergency call). The secret is write-only: SetTenantWebhook seals it,
// TenantWebhook opens it to sign.
type Webhook struct {
	URL       string
	Secret    string
	SecretSet bool
}

// SetTenantWebhook sets a tenant's webhook URL and, when secret is not
// nil, its secret ("" removes it). An empty URL turns the webhook off.
func (s *Store) SetTenantWebhook(ctx context.Context, tenantID, url string, secret *string) error {
	if secret == nil {
		res, err := s.w.ExecContext(ctx, `UPDATE tenants SET webhook_url = ? WHERE id = ?`, url, tenantID)
		return affected(res, err)
	}
	var sealed []byte
	if *secret != "" {
		var err error
		if sealed, err = s.encrypt(*secret); err != nil {
			return err
		}
	}
	res, err := s.w.ExecContext(ctx, `UPDATE tenants SET webhook_url = ?, webhook_secret_enc = ? WHERE id = ?`, url, sealed, tenantID)
	return affected(res, err)
}

// TenantWebhook returns a tenant's webhook with its secret opened.
func (s *Store) TenantWebhook(ctx context.Context, tenantID string) (Webhook, error) {
	var w Webhook
	var sealed []byte
	err := s.r.QueryRowContext(ctx, `SELECT webhook_url, webhook_secret_enc FROM tenants WHERE id = ?`, tenantID).Scan(&w.URL, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return Webhook{}, ErrNotFound
	}
	if err != nil || sealed == nil {
		return w, err
	}
	w.SecretSet = true
	w.Secret, err = s.decrypt(sealed)
	return w, err
}
