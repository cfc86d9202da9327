package store

import (
	"context"
	"database/sql"
	"errors"
)

// DeviceProfile is what provisioning writes for a device beyond its
// licence: the model of a DECT handset, and whether an adapter port serves
// a fax machine. A device without one has the zero profile.
type DeviceProfile struct {
	DeviceID     string
	HandsetModel string
	Fax          bool
}

// SetDeviceProfile records a device's profile (ErrNotFound when the
// tenant has no such device).
func (s *Store) SetDeviceProfile(ctx context.Context, tenantID string, p DeviceProfile) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM devices WHERE tenant_id = ? AND id = ?`, tenantID, p.DeviceID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO device_profiles(device_id, tenant_id, handset_model, fax) VALUES (?,?,?,?)
			ON CONFLICT (device_id) DO UPDATE SET handset_model = excluded.handset_model, fax = excluded.fax`,
			p.DeviceID, tenantID, p.HandsetModel, b2i(p.Fax))
		return err
	})
}

// DeviceProfile returns a device's profile; a device with none recorded
// gets the zero profile.
func (s *Store) DeviceProfile(ctx context.Context, tenantID, deviceID string) (DeviceProfile, error) {
	p := DeviceProfile{DeviceID: deviceID}
	var fax int
	err := s.r.QueryRowContext(ctx, `SELECT handset_model, fax FROM device_profiles WHERE tenant_id = ? AND device_id = ?`, tenantID, deviceID).Scan(&p.HandsetModel, &fax)
	if errors.Is(err, sql.ErrNoRows) {
		return p, nil
	}
	p.Fax = fax == 1
	return p, err
}

// DeviceProfiles returns the recorded profiles of a tenant's devices, by
// device id.
func (s *Store) DeviceProfiles(ctx context.Context, tenantID string) (map[string]DeviceProfile, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT device_id, handset_model, fax FROM device_profiles WHERE tenant_id = ?`, tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]DeviceProfile{}
	for rows.Next() {
		var p DeviceProfile
		var fax int
		if err := rows.Scan(&p.DeviceID, &p.HandsetModel, &fax); err != nil {
			return nil, err
		}
		p.Fax = fax == 1
		out[p.DeviceID] = p
	}
	return out, rows.Err()
}
