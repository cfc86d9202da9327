package store

import (
	"context"
	"time"
)

// ExpireBindings deletes the bindings expired at now and returns them
// (device, tenant, contact, source, transport, user agent, expiry), so
// that each expiry can be logged.
func (s *Store) ExpireBindings(ctx context.Context, now time.Time) ([]Binding, error) {
	rows, err := s.w.QueryContext(ctx, `DELETE FROM registrations WHERE expires_at <= ?
		RETURNING device_id, tenant_id, contact, source, transport, user_agent, expires_at`, now.UnixMilli())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Binding
	for rows.Next() {
		var b Binding
		var exp int64
		if err := rows.Scan(&b.DeviceID, &b.TenantID, &b.Contact, &b.Source, &b.Transport, &b.UserAgent, &exp); err != nil {
			return nil, err
		}
		b.ExpiresAt = time.UnixMilli(exp).UTC()
		out = append(out, b)
	}
	return out, rows.Err()
}
