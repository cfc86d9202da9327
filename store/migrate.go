package store

import (
	"context"
	"fmt"
	"time"
)

// migrations are applied in order; each runs once, in its own transaction, and
// its index is recorded in schema_migrations. Never edit a published one:
// append a new one.
var migrations = []string{
	// 1: foundation.
	`CREATE TABLE tenants (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL,
		domain TEXT NOT NULL UNIQUE,
		billing_state TEXT NOT NULL DEFAULT 'active'
			CHECK (billing_state IN ('active','restricted','service_minimum','suspended')),
		created_at INTEGER NOT NULL
	);
	CREATE TABLE sites (
		id TEXT PRIMARY KEY,
		tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		street TEXT NOT NULL DEFAULT '',
		number TEXT NOT NULL DEFAULT '',
		postal_code TEXT NOT NULL DEFAULT '',
		city TEXT NOT NULL DEFAULT '',
		country TEXT NOT NULL DEFAULT 'BE',
		created_at INTEGER NOT NULL
	);
	CREATE INDEX sites_tenant ON sites(tenant_id);
	CREATE TABLE users (
		id TEXT PRIMARY KEY,
		tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
		first_name TEXT NOT NULL,
		last_name TEXT NOT NULL,
		email TEXT NOT NULL DEFAULT '',
		language TEXT NOT NULL DEFAULT 'nl',
		licence TEXT NOT NULL CHECK (licence IN ('full','light')),
		extension TEXT,
		status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active','suspended')),
		suspended_until INTEGER NOT NULL DEFAULT 0,
		site_id TEXT REFERENCES sites(id) ON DELETE SET NULL,
		dnd INTEGER NOT NULL DEFAULT 0,
		forward_always TEXT NOT NULL DEFAULT '',
		forward_busy TEXT NOT NULL DEFAULT '',
		forward_no_answer TEXT NOT NULL DEFAULT '',
		no_answer_seconds INTEGER NOT NULL DEFAULT 20,
		created_at INTEGER NOT NULL,
		CHECK ((licence = 'full' AND extension IS NOT NULL) OR (licence = 'light' AND extension IS NULL)),
		UNIQUE (tenant_id, extension)
	);
	CREATE INDEX users_tenant ON users(tenant_id);
	CREATE TABLE devices (
		id TEXT PRIMARY KEY,
		tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
		user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
		kind TEXT NOT NULL,
		model TEXT NOT NULL DEFAULT '',
		mac TEXT UNIQUE,
		sip_username TEXT NOT NULL UNIQUE,
		ha1_md5 TEXT NOT NULL,
		ha1_sha256 TEXT NOT NULL,
		sip_password_enc BLOB NOT NULL,
		prov_username TEXT NOT NULL DEFAULT '',
		prov_ha1_md5 TEXT NOT NULL DEFAULT '',
		prov_ha1_sha256 TEXT NOT NULL DEFAULT '',
		prov_password_hash BLOB,
		created_at INTEGER NOT NULL
	);
	CREATE INDEX devices_user ON devices(user_id);
	CREATE INDEX devices_tenant ON devices(tenant_id);
	CREATE TABLE registrations (
		device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
		tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
		contact TEXT NOT NULL,
		source TEXT NOT NULL,
		transport TEXT NOT NULL,
		user_agent TEXT NOT NULL DEFAULT '',
		call_id TEXT NOT NULL DEFAULT '',
		cseq INTEGER NOT NULL DEFAULT 0,
		expires_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL,
		PRIMARY KEY (device_id, contact)
	);
	CREATE INDEX registrations_tenant ON registrations(tenant_id);
	CREATE INDEX registrations_expiry ON registrations(expires_at);
	CREATE TABLE api_tokens (
		id TEXT PRIMARY KEY,
		hash TEXT NOT NULL UNIQUE,
		scope TEXT NOT NULL CHECK (scope IN ('admin','tenant')),
		tenant_id TEXT REFERENCES tenants(id) ON DELETE CASCADE,
		name TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL
	);
	CREATE TABLE blf_keys (
		user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
		position INTEGER NOT NULL,
		target_user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
		label TEXT NOT NULL DEFAULT '',
		PRIMARY KEY (user_id, position)
	);
	CREATE TABLE cdrs (
		id TEXT PRIMARY KEY,
		tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
		call_id TEXT NOT NULL,
		caller TEXT NOT NULL,
		callee TEXT NOT NULL,
		start_at INTEGER NOT NULL,
		answer_at INTEGER NOT NULL DEFAULT 0,
		end_at INTEGER NOT NULL,
		billable_seconds INTEGER NOT NULL DEFAULT 0,
		disposition TEXT NOT NULL,
		hangup_cause TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX cdrs_tenant_start ON cdrs(tenant_id, start_at);`,
	// 2: DECT handsets hang off their base; per-device SIP transport.
	`ALTER TABLE devices ADD COLUMN base_device_id TEXT REFERENCES devices(id) ON DELETE SET NULL;
	ALTER TABLE devices ADD COLUMN transport TEXT NOT NULL DEFAULT '';
	CREATE INDEX devices_base ON devices(base_device_id);`,
	// 3: a Gigaset base's MAC-ID (its factory provisioning password), sealed
	// like the SIP passwords.
	`ALTER TABLE devices ADD COLUMN mac_id_enc BLOB;`,
	// 4: per-tenant SIP digest algorithms ("" = the server's default).
	`ALTER TABLE tenants ADD COLUMN sip_digest TEXT NOT NULL DEFAULT '';`,
	// 5: who placed a call (device, trunk, originate); '' for older records.
	`ALTER TABLE cdrs ADD COLUMN origin TEXT NOT NULL DEFAULT '';`,
}

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("store: migrations table: %w", err)
	}
	var current int
	if err := s.w.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("store: read schema version: %w", err)
	}
	if current > len(migrations) {
		return fmt.Errorf("store: database schema version %d is newer than this binary (%d)", current, len(migrations))
	}
	for i := current; i < len(migrations); i++ {
		v := i + 1
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("store: migration %d: %w", v, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations(version, applied_at) VALUES (?, ?)`, v, time.Now().Unix()); err != nil {
			tx.Rollback()
			return fmt.Errorf("store: record migration %d: %w", v, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("store: commit migration %d: %w", v, err)
		}
	}
	return nil
}
