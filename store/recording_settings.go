package store

import (
	"context"
	"database/sql"
	"errors"
	"maps"
	"strings"
	"time"
)

// Recording policies: whether calls of a user, of a public number or of a
// hunt group are recorded. No row means never.
const (
	RecordNever    = "never"
	RecordAlways   = "always"
	RecordOnDemand = "on_demand"
)

// Kinds of what a recording policy applies to.
const (
	PolicyUser      = "user"
	PolicyNumber    = "number"
	PolicyHuntGroup = "hunt_group"
)

// PolicyKey names what a recording policy applies to.
type PolicyKey struct {
	Kind, ID string
}

// SetRecordingPolicy sets the recording policy of a user, number or hunt
// group of the tenant; RecordNever (or "") removes it.
func (s *Store) SetRecordingPolicy(ctx context.Context, tenantID string, k PolicyKey, mode string) error {
	if mode == "" || mode == RecordNever {
		_, err := s.w.ExecContext(ctx, `DELETE FROM recording_policies WHERE tenant_id=? AND kind=? AND target_id=?`, tenantID, k.Kind, k.ID)
		return err
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO recording_policies(tenant_id, kind, target_id, mode) VALUES (?,?,?,?)
		ON CONFLICT (kind, target_id) DO UPDATE SET mode=excluded.mode`, tenantID, k.Kind, k.ID, mode)
	if isForeignKey(err) {
		return ErrNotFound
	}
	return err
}

// RecordingPolicies returns the modes set on keys of the tenant (those
// without a policy are missing from the map). It is one query, made once
// per bridged call.
func (s *Store) RecordingPolicies(ctx context.Context, tenantID string, keys []PolicyKey) (map[PolicyKey]string, error) {
	var key strings.Builder
	key.WriteString("recpolicies\x00" + tenantID)
	for _, k := range keys {
		key.WriteString("\x00" + k.Kind + "\x00" + k.ID)
	}
	return cached(&s.cache, key.String(), recordingPolicyTables, maps.Clone, func() (map[PolicyKey]string, error) {
		return s.recordingPolicies(ctx, tenantID, keys)
	})
}

var recordingPolicyTables = []string{"recording_policies"}

func (s *Store) recordingPolicies(ctx context.Context, tenantID string, keys []PolicyKey) (map[PolicyKey]string, error) {
	out := map[PolicyKey]string{}
	if len(keys) == 0 {
		return out, nil
	}
	var q strings.Builder
	q.WriteString(`SELECT kind, target_id, mode FROM recording_policies WHERE tenant_id=? AND (`)
	args := []any{tenantID}
	for i, k := range keys {
		if i > 0 {
			q.WriteString(" OR ")
		}
		q.WriteString("(kind=? AND target_id=?)")
		args = append(args, k.Kind, k.ID)
	}
	q.WriteString(")")
	rows, err := s.r.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var k PolicyKey
		var mode string
		if err := rows.Scan(&k.Kind, &k.ID, &mode); err != nil {
			return nil, err
		}
		out[k] = mode
	}
	return out, rows.Err()
}

// RecordingPolicy returns the mode of one key (RecordNever when unset).
func (s *Store) RecordingPolicy(ctx context.Context, tenantID string, k PolicyKey) (string, error) {
	m, err := s.RecordingPolicies(ctx, tenantID, []PolicyKey{k})
	if err != nil {
		return "", err
	}
	if mode, ok := m[k]; ok {
		return mode, nil
	}
	return RecordNever, nil
}

// MaxRetentionDays is the longest a recording is kept: the service
// promises deletion 90 days after recording; a tenant may choose less.
const MaxRetentionDays = 90

// RecordingSettings are a tenant's choices for its recordings.
type RecordingSettings struct {
	TenantID      string
	RetentionDays int    // 1..MaxRetentionDays
	Announce      bool   // both parties hear that the call is recorded
	ToggleCode    string // DTMF code that toggles on-demand recording
	Export        ExportSettings
	UpdatedAt     time.Time
}

// ExportSettings say where a tenant's recordings are copied over SFTP.
// The password and private key are sealed at rest and never read back
// through this type (see RecordingExportSecrets).
type ExportSettings struct {
	Enabled     bool
	Host        string
	Port        int
	Username    string
	HostKey     string // the server's public key, authorized_keys format: pinned
	Dir         string // remote directory
	DeleteLocal bool   // delete our copy once the remote one is verified
	HasPassword bool
	HasKey      bool
}

// ExportSecrets are the credentials of an export, decrypted.
type ExportSecrets struct {
	Password   string
	PrivateKey string // PEM
}

// DefaultRecordingSettings are a tenant's settings until it changes them.
func DefaultRecordingSettings(tenantID string) RecordingSettings {
	return RecordingSettings{TenantID: tenantID, RetentionDays: MaxRetentionDays, ToggleCode: "*1", Export: ExportSettings{Port: 22}}
}

const settingsCols = `tenant_id, retention_days, announce, toggle_code, export_enabled, export_host, export_port, export_user,
	export_host_key, export_dir, export_delete_local, export_password_enc IS NOT NULL, export_key_enc IS NOT NULL, updated_at`

// RecordingSettings returns the tenant's settings (the defaults if it
// never set any).
func (s *Store) RecordingSettings(ctx context.Context, tenantID string) (RecordingSettings, error) {
	var r RecordingSettings
	var announce, enabled, del int
	var updated int64
	e := &r.Export
	err := s.r.QueryRowContext(ctx, `SELECT `+settingsCols+` FROM recording_settings WHERE tenant_id=?`, tenantID).Scan(
		&r.TenantID, &r.RetentionDays, &announce, &r.ToggleCode, &enabled, &e.Host, &e.Port, &e.Username,
		&e.HostKey, &e.Dir, &del, &e.HasPassword, &e.HasKey, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return DefaultRecordingSettings(tenantID), nil
	}
	r.Announce, e.Enabled, e.DeleteLocal = announce == 1, enabled == 1, del == 1
	r.UpdatedAt = timeOrZero(updated)
	return r, err
}

// SecretChange changes the export's credentials: a nil field keeps what
// is stored, an empty one removes it.
type SecretChange struct {
	Password, PrivateKey *string
}

// SetRecordingSettings stores the tenant's settings and applies change to
// the export's credentials.
func (s *Store) SetRecordingSettings(ctx context.Context, r RecordingSettings, change SecretChange) error {
	e := r.Export
	seal := func(v *string) ([]byte, error) {
		if v == nil || *v == "" {
			return nil, nil
		}
		return s.encrypt(*v)
	}
	pw, err := seal(change.Password)
	if err != nil {
		return err
	}
	key, err := seal(change.PrivateKey)
	if err != nil {
		return err
	}
	args := []any{r.TenantID, r.RetentionDays, b2i(r.Announce), r.ToggleCode, b2i(e.Enabled), e.Host, e.Port, e.Username,
		e.HostKey, e.Dir, b2i(e.DeleteLocal), time.Now().Unix()}
	q := `INSERT INTO recording_settings(tenant_id, retention_days, announce, toggle_code, export_enabled, export_host, export_port,
		export_user, export_host_key, export_dir, export_delete_local, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT (tenant_id) DO UPDATE SET retention_days=excluded.retention_days, announce=excluded.announce,
		toggle_code=excluded.toggle_code, export_enabled=excluded.export_enabled, export_host=excluded.export_host,
		export_port=excluded.export_port, export_user=excluded.export_user, export_host_key=excluded.export_host_key,
		export_dir=excluded.export_dir, export_delete_local=excluded.export_delete_local, updated_at=excluded.updated_at`
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			if isForeignKey(err) {
				return ErrNotFound
			}
			return err
		}
		if change.Password != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE recording_settings SET export_password_enc=? WHERE tenant_id=?`, pw, r.TenantID); err != nil {
				return err
			}
		}
		if change.PrivateKey != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE recording_settings SET export_key_enc=? WHERE tenant_id=?`, key, r.TenantID); err != nil {
				return err
			}
		}
		return nil
	})
}

// RecordingExportSecrets returns the export credentials of a tenant,
// decrypted, for the exporter only.
func (s *Store) RecordingExportSecrets(ctx context.Context, tenantID string) (ExportSecrets, error) {
	var pw, key []byte
	err := s.r.QueryRowContext(ctx, `SELECT export_password_enc, export_key_enc FROM recording_settings WHERE tenant_id=?`, tenantID).Scan(&pw, &key)
	if errors.Is(err, sql.ErrNoRows) {
		return ExportSecrets{}, ErrNotFound
	}
	if err != nil {
		return ExportSecrets{}, err
	}
	var out ExportSecrets
	if len(pw) > 0 {
		if out.Password, err = s.decrypt(pw); err != nil {
			return ExportSecrets{}, err
		}
	}
	if len(key) > 0 {
		if out.PrivateKey, err = s.decrypt(key); err != nil {
			return ExportSecrets{}, err
		}
	}
	return out, nil
}
