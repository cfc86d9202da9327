package store

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Device is one SIP endpoint of a licence.
type Device struct {
	ID, TenantID, UserID string
	Kind                 string // yealink, gigaset, softphone, generic
	Model                string
	MAC                  string // 12 lower-case hex digits, or empty
	// BaseDeviceID is, for a DECT handset, the Gigaset base it is an account
	// of (the base carries the MAC and is provisioned with every handset).
	BaseDeviceID string
	// Transport is the SIP transport provisioning configures: udp, tcp,
	// tls, or empty for the server default.
	Transport         string
	SIPUsername       string
	HA1MD5, HA1SHA256 string
	// Provisioning credential (HTTP digest realm chosen by the provisioning
	// package); the password itself is never stored.
	ProvUsername, ProvHA1MD5, ProvHA1SHA256 string
	ProvPasswordHash                        []byte
	// MACID is a Gigaset base's MAC-ID (the code on its label, which the
	// base answers a provisioning challenge with before any credential is
	// configured). CreateDevice keeps it encrypted; reads leave it empty and
	// set HasMACID (DeviceMACID decrypts it for provisioning).
	MACID     string
	HasMACID  bool
	CreatedAt time.Time
}

// DeviceAuth is what the SIP layer needs to authenticate a device: the device,
// its licence and its tenant.
type DeviceAuth struct {
	Device Device
	User   User
	Tenant Tenant
}

// HA1 computes the digest HA1 value (RFC 2617, RFC 8760) with hash "MD5" or "SHA-256".
func HA1(alg, username, realm, password string) string {
	s := username + ":" + realm + ":" + password
	if alg == "SHA-256" {
		h := sha256.Sum256([]byte(s))
		return hex.EncodeToString(h[:])
	}
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

const deviceCols = `d.id, d.tenant_id, d.user_id, d.kind, d.model, COALESCE(d.mac,''), d.sip_username, d.ha1_md5, d.ha1_sha256,
	d.prov_username, d.prov_ha1_md5, d.prov_ha1_sha256, d.prov_password_hash, d.created_at, COALESCE(d.base_device_id,''), d.transport,
	d.mac_id_enc IS NOT NULL`

func scanDevice(row interface{ Scan(...any) error }, extra ...any) (Device, error) {
	var d Device
	var created int64
	dest := append([]any{&d.ID, &d.TenantID, &d.UserID, &d.Kind, &d.Model, &d.MAC, &d.SIPUsername, &d.HA1MD5, &d.HA1SHA256,
		&d.ProvUsername, &d.ProvHA1MD5, &d.ProvHA1SHA256, &d.ProvPasswordHash, &created, &d.BaseDeviceID, &d.Transport, &d.HasMACID}, extra...)
	err := row.Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return Device{}, ErrNotFound
	}
	d.CreatedAt = timeOrZero(created)
	return d, err
}

// CreateDevice adds a device to a licence, deriving the digest HA1 values from
// password in the tenant's realm and keeping the password itself encrypted
// (provisioning must hand it to the phone). The licence's device limit is
// enforced in the same transaction (ErrLimit).
func (s *Store) CreateDevice(ctx context.Context, d Device, password string) (Device, error) {
	if d.ID == "" {
		d.ID = NewID("dev")
	}
	d.CreatedAt = time.Now().UTC().Truncate(time.Second)
	sealed, err := s.encrypt(password)
	if err != nil {
		return Device{}, err
	}
	var macID []byte
	if d.MACID != "" {
		if macID, err = s.encrypt(d.MACID); err != nil {
			return Device{}, err
		}
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var licence, domain string
		var count int
		err := tx.QueryRowContext(ctx, `SELECT u.licence, t.domain, (SELECT COUNT(*) FROM devices WHERE user_id = u.id)
			FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.tenant_id = ? AND u.id = ?`, d.TenantID, d.UserID).Scan(&licence, &domain, &count)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		limit := MaxDevicesFull
		if licence == LicenceLight {
			limit = MaxDevicesLight
		}
		if d.BaseDeviceID != "" {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM devices WHERE id = ? AND tenant_id = ? AND mac IS NOT NULL`, d.BaseDeviceID, d.TenantID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return fmt.Errorf("base device %q: %w", d.BaseDeviceID, ErrNotFound)
			}
		}
		if count >= limit {
			return fmt.Errorf("%s licence allows %d device(s): %w", licence, limit, ErrLimit)
		}
		d.HA1MD5 = HA1("MD5", d.SIPUsername, domain, password)
		d.HA1SHA256 = HA1("SHA-256", d.SIPUsername, domain, password)
		_, err = tx.ExecContext(ctx, `INSERT INTO devices(id, tenant_id, user_id, kind, model, mac, sip_username, ha1_md5, ha1_sha256, sip_password_enc,
			prov_username, prov_ha1_md5, prov_ha1_sha256, prov_password_hash, created_at, base_device_id, transport, mac_id_enc) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			d.ID, d.TenantID, d.UserID, d.Kind, d.Model, nullStr(d.MAC), d.SIPUsername, d.HA1MD5, d.HA1SHA256, sealed,
			d.ProvUsername, d.ProvHA1MD5, d.ProvHA1SHA256, d.ProvPasswordHash, d.CreatedAt.Unix(), nullStr(d.BaseDeviceID), d.Transport, macID)
		if isUnique(err) {
			return fmt.Errorf("device MAC or SIP username already in use: %w", ErrConflict)
		}
		return err
	})
	if err != nil {
		return Device{}, err
	}
	d.HasMACID, d.MACID = d.MACID != "", ""
	return d, nil
}

// Device returns a device of a tenant.
func (s *Store) Device(ctx context.Context, tenantID, id string) (Device, error) {
	return scanDevice(s.r.QueryRowContext(ctx, `SELECT `+deviceCols+` FROM devices d WHERE d.tenant_id = ? AND d.id = ?`, tenantID, id))
}

// DeviceByMAC returns the device with this MAC (12 lower-case hex digits).
func (s *Store) DeviceByMAC(ctx context.Context, mac string) (Device, error) {
	return scanDevice(s.r.QueryRowContext(ctx, `SELECT `+deviceCols+` FROM devices d WHERE d.mac = ?`, mac))
}

// Devices lists the devices of a tenant, or of one of its users when userID is set.
func (s *Store) Devices(ctx context.Context, tenantID, userID string) ([]Device, error) {
	q := `SELECT ` + deviceCols + ` FROM devices d WHERE d.tenant_id = ?`
	args := []any{tenantID}
	if userID != "" {
		q += ` AND d.user_id = ?`
		args = append(args, userID)
	}
	return collect(scanDeviceRow)(s.r.QueryContext(ctx, q+` ORDER BY d.created_at, d.id`, args...))
}

// The device, its licence and its tenant, by SIP username.
const (
	deviceAuthCols = deviceCols + `, u.id, u.tenant_id, u.first_name, u.last_name, u.email, u.language, u.licence, COALESCE(u.extension,''), u.status, u.suspended_until,
		COALESCE(u.site_id,''), u.dnd, u.forward_always, u.forward_busy, u.forward_no_answer, u.no_answer_seconds, u.created_at, t.id, t.name, t.domain, t.billing_state, t.sip_digest, t.created_at`
	deviceAuthFrom  = ` FROM devices d JOIN users u ON u.id = d.user_id JOIN tenants t ON t.id = d.tenant_id`
	deviceAuthQuery = `SELECT ` + deviceAuthCols + deviceAuthFrom + ` WHERE d.sip_username = ?`
	// The same with the device's unexpired bindings, one row each (or one
	// row of NULLs when there is none).
	deviceRegistrationQuery = `SELECT ` + deviceAuthCols + `, r.device_id, r.tenant_id, r.contact, r.source, r.transport, r.user_agent, r.call_id, r.cseq,
		r.expires_at, r.updated_at, r.instance, r.pn_provider, r.pn_prid, r.pn_param, r.path, r.location` + deviceAuthFrom + ` LEFT JOIN registrations r ON r.device_id = d.id AND r.expires_at > ? WHERE d.sip_username = ? ORDER BY r.contact`
)

// DeviceAuthByUsername returns the device with this SIP username with its
// licence and tenant, for digest authentication.
func (s *Store) DeviceAuthByUsername(ctx context.Context, username string) (DeviceAuth, error) {
	return cached(&s.cache, "deviceauth\x00"+username, deviceAuthTables, cloneDeviceAuth, func() (DeviceAuth, error) {
		return scanDeviceAuth(s.stDeviceAuth.QueryRowContext(ctx, username))
	})
}

func scanDeviceAuth(row interface{ Scan(...any) error }, extra ...any) (DeviceAuth, error) {
	var a DeviceAuth
	var until, ucreated, tcreated int64
	var dnd int
	u := &a.User
	t := &a.Tenant
	d, err := scanDevice(row, append([]any{&u.ID, &u.TenantID, &u.FirstName, &u.LastName, &u.Email, &u.Language, &u.Licence, &u.Extension, &u.Status, &until,
		&u.SiteID, &dnd, &u.ForwardAlways, &u.ForwardBusy, &u.ForwardNoAnswer, &u.NoAnswerSeconds, &ucreated,
		&t.ID, &t.Name, &t.Domain, &t.BillingState, &t.SIPDigest, &tcreated}, extra...)...)
	if err != nil {
		return DeviceAuth{}, err
	}
	a.Device = d
	u.SuspendedUntil = timeOrZero(until)
	u.CreatedAt = timeOrZero(ucreated)
	u.DND = dnd != 0
	t.CreatedAt = timeOrZero(tcreated)
	return a, nil
}

// DeviceRegistration returns, in one query, what a REGISTER needs: the
// device with this SIP username, its licence and tenant, and its unexpired
// bindings (with their Path and location: a REGISTER that changes neither
// is a refresh, see BindingChange.Refresh).
func (s *Store) DeviceRegistration(ctx context.Context, username string, now time.Time) (DeviceAuth, []Binding, error) {
	rows, err := s.stDeviceRegistration.QueryContext(ctx, now.UnixMilli(), username)
	if err != nil {
		return DeviceAuth{}, nil, err
	}
	defer rows.Close()
	var a DeviceAuth
	var bs []Binding
	found := false
	for rows.Next() {
		var devID, tenID, contact, source, transport, ua, callID, inst, pnProv, pnPRID, pnParam, path, loc sql.NullString
		var cseq, exp, upd sql.NullInt64
		a, err = scanDeviceAuth(rows, &devID, &tenID, &contact, &source, &transport, &ua, &callID, &cseq, &exp, &upd, &inst, &pnProv, &pnPRID, &pnParam,
			&path, &loc)
		if err != nil {
			return DeviceAuth{}, nil, err
		}
		found = true
		if devID.Valid {
			bs = append(bs, Binding{DeviceID: devID.String, TenantID: tenID.String, Contact: contact.String, Source: source.String,
				Transport: transport.String, UserAgent: ua.String, CallID: callID.String, CSeq: uint32(cseq.Int64),
				ExpiresAt: time.UnixMilli(exp.Int64).UTC(), UpdatedAt: time.UnixMilli(upd.Int64).UTC(), Instance: inst.String,
				Push: PushParams{Provider: pnProv.String, PRID: pnPRID.String, Param: pnParam.String}, Path: path.String, Location: loc.String})
		}
	}
	if err := rows.Err(); err != nil {
		return DeviceAuth{}, nil, err
	}
	if !found {
		return DeviceAuth{}, nil, ErrNotFound
	}
	return a, bs, nil
}

// DevicePassword decrypts the SIP password of a device; only provisioning of
// that very device may call it.
func (s *Store) DevicePassword(ctx context.Context, deviceID string) (string, error) {
	var sealed []byte
	err := s.r.QueryRowContext(ctx, `SELECT sip_password_enc FROM devices WHERE id = ?`, deviceID).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", err
	}
	return s.decrypt(sealed)
}

// DeviceMACID decrypts a Gigaset base's MAC-ID ("" when none was recorded);
// only provisioning of that very device may call it.
func (s *Store) DeviceMACID(ctx context.Context, deviceID string) (string, error) {
	var sealed []byte
	err := s.r.QueryRowContext(ctx, `SELECT mac_id_enc FROM devices WHERE id = ?`, deviceID).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil || sealed == nil {
		return "", err
	}
	return s.decrypt(sealed)
}

// RotateDeviceCredentials gives a device a new SIP password and drops its
// bindings, so the phone must register again with the new secret.
func (s *Store) RotateDeviceCredentials(ctx context.Context, tenantID, id, password string) error {
	sealed, err := s.encrypt(password)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		var username, domain string
		err := tx.QueryRowContext(ctx, `SELECT d.sip_username, t.domain FROM devices d JOIN tenants t ON t.id = d.tenant_id
			WHERE d.tenant_id = ? AND d.id = ?`, tenantID, id).Scan(&username, &domain)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE devices SET ha1_md5=?, ha1_sha256=?, sip_password_enc=? WHERE id=?`,
			HA1("MD5", username, domain, password), HA1("SHA-256", username, domain, password), sealed, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM registrations WHERE device_id = ?`, id)
		return err
	})
}

// SetDeviceProvisioning replaces the provisioning credential of a device.
func (s *Store) SetDeviceProvisioning(ctx context.Context, tenantID, id, username, ha1md5, ha1sha256 string, hash []byte) error {
	res, err := s.w.ExecContext(ctx, `UPDATE devices SET prov_username=?, prov_ha1_md5=?, prov_ha1_sha256=?, prov_password_hash=? WHERE tenant_id=? AND id=?`,
		username, ha1md5, ha1sha256, hash, tenantID, id)
	return affected(res, err)
}

// DeleteDevice removes a device and its bindings.
func (s *Store) DeleteDevice(ctx context.Context, tenantID, id string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM devices WHERE tenant_id = ? AND id = ?`, tenantID, id)
	return affected(res, err)
}

// Handsets lists the DECT handsets attached to a base device, oldest first.
func (s *Store) Handsets(ctx context.Context, tenantID, baseID string) ([]Device, error) {
	return collect(scanDeviceRow)(s.r.QueryContext(ctx, `SELECT `+deviceCols+` FROM devices d WHERE d.tenant_id = ? AND d.base_device_id = ? ORDER BY d.created_at, d.id`, tenantID, baseID))
}

func scanDeviceRow(row interface{ Scan(...any) error }) (Device, error) { return scanDevice(row) }
