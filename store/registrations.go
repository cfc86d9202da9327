package store

import (
	"context"
	"database/sql"
	"time"
)

// Binding is one registered contact of a device.
type Binding struct {
	// Location is the PIDF-LO document the device conveyed in its last
	// REGISTER (RFC 6442), "" for none. ApplyBindings writes it and
	// DeviceRegistration reads it; other lookups leave it empty
	// (DeviceLocation reads it for emergency calls).
	Location string

	DeviceID, TenantID string
	Contact            string // the Contact URI the device registered
	Source             string // host:port the REGISTER came from (where to reach the device)
	Transport          string // udp, tcp or tls
	UserAgent          string
	// Path is the Path header value (RFC 3327) of the REGISTER, the proxies
	// in front of the device (an edge such as Kamailio), to be sent as the
	// Route set of requests to it; empty when it registered directly.
	Path      string
	CallID    string
	CSeq      uint32
	ExpiresAt time.Time
	UpdatedAt time.Time
	// Instance is the Contact's +sip.instance (RFC 5626), without its
	// angle brackets; a device that registers it again with another
	// contact replaces its binding.
	Instance string
	// Push holds the RFC 8599 parameters of the Contact; zero when the
	// device is not woken by push.
	Push PushParams
}

// PushParams are the RFC 8599 Contact URI parameters of a binding. PRID is
// the device's token at its push service: shown masked, never logged.
type PushParams struct {
	Provider string // pn-provider: apns, fcm, ...
	PRID     string // pn-prid
	Param    string // pn-param: TeamID.BundleID.voip for APNs, the project id for FCM
}

// Wakeable reports whether a push can be sent to the binding.
func (p PushParams) Wakeable() bool { return p.Provider != "" && p.PRID != "" }

// BindingChange is one change of a REGISTER: an upsert, or a removal when Remove is set.
type BindingChange struct {
	Binding
	Remove bool
	// Refresh marks an upsert of a binding the store holds already with
	// the same source, transport, user agent, Path, instance, push
	// parameters and location: only its Call-ID, CSeq, expiry and update
	// time are written (a phone's periodic refresh, the bulk of the writes).
	Refresh bool
}

// ApplyBindings applies a batch of binding changes in one transaction: the
// registrar groups the REGISTERs of many devices into one commit.
func (s *Store) ApplyBindings(ctx context.Context, changes []BindingChange) error {
	if len(changes) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		up := tx.StmtContext(ctx, s.stUpsertBinding)
		defer up.Close()
		del := tx.StmtContext(ctx, s.stDeleteBinding)
		defer del.Close()
		var ref *sql.Stmt
		for _, c := range changes {
			b := c.Binding
			if c.Remove {
				if _, err := del.ExecContext(ctx, b.DeviceID, b.Contact, b.Contact); err != nil {
					return err
				}
				continue
			}
			if c.Refresh {
				if ref == nil {
					ref = tx.StmtContext(ctx, s.stRefreshBinding)
					defer ref.Close()
				}
				// A binding removed meanwhile (by the API, a push service)
				// stays removed: the refresh updates no row.
				if _, err := ref.ExecContext(ctx, b.CallID, int64(b.CSeq), b.ExpiresAt.UnixMilli(), b.UpdatedAt.UnixMilli(), b.DeviceID, b.Contact); err != nil {
					return err
				}
				continue
			}
			if _, err := up.ExecContext(ctx, b.DeviceID, b.TenantID, b.Contact, b.Source, b.Transport, b.UserAgent, b.CallID, int64(b.CSeq),
				b.ExpiresAt.UnixMilli(), b.UpdatedAt.UnixMilli(), b.Instance, b.Push.Provider, b.Push.PRID, b.Push.Param, b.Location, b.Path); err != nil {
				return err
			}
		}
		return nil
	})
}

const upsertBindingQuery = `INSERT INTO registrations(device_id, tenant_id, contact, source, transport, user_agent, call_id, cseq, expires_at, updated_at,
				instance, pn_provider, pn_prid, pn_param, location, path)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
			ON CONFLICT(device_id, contact) DO UPDATE SET source=excluded.source, transport=excluded.transport, user_agent=excluded.user_agent,
				call_id=excluded.call_id, cseq=excluded.cseq, expires_at=excluded.expires_at, updated_at=excluded.updated_at,
				instance=excluded.instance, pn_provider=excluded.pn_provider, pn_prid=excluded.pn_prid, pn_param=excluded.pn_param,
				location=excluded.location, path=excluded.path`

const refreshBindingQuery = `UPDATE registrations SET call_id = ?, cseq = ?, expires_at = ?, updated_at = ? WHERE device_id = ? AND contact = ?`

const deleteBindingQuery = `DELETE FROM registrations WHERE device_id = ? AND (contact = ? OR ? = '*')`

const bindingCols = `device_id, tenant_id, contact, source, transport, user_agent, call_id, cseq, expires_at, updated_at,
	instance, pn_provider, pn_prid, pn_param, path`

func scanBindings(rows *sql.Rows, err error) ([]Binding, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Binding
	for rows.Next() {
		var b Binding
		var cseq, exp, upd int64
		if err := rows.Scan(&b.DeviceID, &b.TenantID, &b.Contact, &b.Source, &b.Transport, &b.UserAgent, &b.CallID, &cseq, &exp, &upd,
			&b.Instance, &b.Push.Provider, &b.Push.PRID, &b.Push.Param, &b.Path); err != nil {
			return nil, err
		}
		b.CSeq = uint32(cseq)
		b.ExpiresAt = time.UnixMilli(exp).UTC()
		b.UpdatedAt = time.UnixMilli(upd).UTC()
		out = append(out, b)
	}
	return out, rows.Err()
}

const deviceBindingsQuery = `SELECT ` + bindingCols + ` FROM registrations WHERE device_id = ? AND expires_at > ? ORDER BY contact`

// DeviceBindings lists the unexpired bindings of a device.
func (s *Store) DeviceBindings(ctx context.Context, deviceID string, now time.Time) ([]Binding, error) {
	return scanBindings(s.stDeviceBindings.QueryContext(ctx, deviceID, now.UnixMilli()))
}

// UserBindings lists the unexpired bindings of every device of a licence.
func (s *Store) UserBindings(ctx context.Context, userID string, now time.Time) ([]Binding, error) {
	return s.cachedBindings(ctx, userID, now, func(now time.Time) ([]Binding, error) {
		return scanBindings(s.r.QueryContext(ctx, `SELECT `+bindingCols+` FROM registrations WHERE device_id IN (SELECT id FROM devices WHERE user_id = ?)
		AND expires_at > ? ORDER BY device_id, contact`, userID, now.UnixMilli()))
	})
}

// TenantBindings lists the unexpired bindings of a tenant.
func (s *Store) TenantBindings(ctx context.Context, tenantID string, now time.Time) ([]Binding, error) {
	return scanBindings(s.r.QueryContext(ctx, `SELECT `+bindingCols+` FROM registrations WHERE tenant_id = ? AND expires_at > ? ORDER BY device_id, contact`,
		tenantID, now.UnixMilli()))
}

// DeleteExpiredBindings removes the bindings that expired before now.
func (s *Store) DeleteExpiredBindings(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM registrations WHERE expires_at <= ?`, now.UnixMilli())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// UDPBindings lists the unexpired bindings registered over UDP (the ones a
// NAT in front of the device may forget), with only Source and Contact set.
// Bindings registered through a proxy (with a Path) are left out: the
// proxy holds the device's flow and keeps it alive, not this node.
func (s *Store) UDPBindings(ctx context.Context, now time.Time) ([]Binding, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT source, contact FROM registrations WHERE transport = 'udp' AND path = '' AND expires_at > ?`, now.UnixMilli())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Binding
	for rows.Next() {
		var b Binding
		if err := rows.Scan(&b.Source, &b.Contact); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}
