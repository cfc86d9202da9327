package store

// Migrations, and the portable SQL they and every query of the store are
// written in.
//
// One list serves SQLite and PostgreSQL. A migration is written once, in the
// portable subset below; on PostgreSQL it is translated word by word
// (postgresDDL): INTEGER -> BIGINT, BLOB -> BYTEA, REAL -> DOUBLE PRECISION,
// TEXT -> TEXT COLLATE "C". A migration that cannot be said portably gets a
// per-dialect override (overrides, below) and keeps its portable text for
// SQLite.
//
// The portable subset:
//   - Column types: TEXT, INTEGER (64-bit everywhere: times are Unix seconds
//     or milliseconds in INTEGER columns), BLOB, REAL. Booleans are INTEGER
//     0/1, compared with "= 1" (PostgreSQL has no integer truthiness);
//     timestamps are never DATETIME/TIMESTAMP.
//   - Keys are TEXT ids made by NewID: no AUTOINCREMENT, no INTEGER PRIMARY
//     KEY as a row id, no ROWID, no WITHOUT ROWID.
//   - Constraints: PRIMARY KEY, UNIQUE, NOT NULL, CHECK, DEFAULT with a
//     literal, REFERENCES ... ON DELETE CASCADE/SET NULL; CREATE INDEX;
//     ALTER TABLE ... ADD COLUMN. Changing or dropping a column needs an
//     override (SQLite rebuilds the table, PostgreSQL alters it).
//   - Statements: INSERT ... ON CONFLICT (cols) DO UPDATE/DO NOTHING (never
//     INSERT OR IGNORE/REPLACE; the conflict columns must be a PRIMARY KEY or
//     UNIQUE constraint). In DO UPDATE, name the existing row's columns with
//     the table (t.col) and the new ones with excluded.col: a bare column is
//     ambiguous on PostgreSQL. RETURNING, COALESCE, CASE, CAST(x AS TEXT).
//     No scalar MAX(a, b)/MIN(a, b) (SQLite only): use CASE. No LIKE
//     (case-insensitive in SQLite, not in PostgreSQL): compare lower(x). No
//     GLOB, PRAGMA, IFNULL, strftime or date functions: compute times in Go.
//   - Parameters are "?", each one a value; PostgreSQL must infer a type for
//     it, so a bare "? IS NULL" needs CAST(? AS TEXT).
//   - TEXT compares and sorts byte-wise on both (COLLATE "C" on PostgreSQL).
//   - Errors are matched with isUnique and isForeignKey, never by message.
//   - A write transaction (Store.tx) may be rerun on PostgreSQL after a
//     serialisation failure: its function must only run queries.
//
// A new migration written this way needs nothing else: the contract tests
// (forEachDialect) run it on both engines.

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
	// 5: carrier trunks, public numbers, hunt groups, call flows (versioned
	// graphs) and audio; a tenant's time zone; a user's outgoing caller id
	// and the end of their last call (longest-idle hunting).
	`ALTER TABLE tenants ADD COLUMN timezone TEXT NOT NULL DEFAULT '';
	CREATE TABLE trunks (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		host TEXT NOT NULL,
		port INTEGER NOT NULL,
		transport TEXT NOT NULL CHECK (transport IN ('udp','tcp','tls')),
		username TEXT NOT NULL DEFAULT '',
		password_enc BLOB,
		register INTEGER NOT NULL DEFAULT 0,
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL
	);
	CREATE TABLE trunk_sources (
		trunk_id TEXT NOT NULL REFERENCES trunks(id) ON DELETE CASCADE,
		source TEXT NOT NULL UNIQUE,
		position INTEGER NOT NULL,
		PRIMARY KEY (trunk_id, source)
	);
	CREATE TABLE numbers (
		id TEXT PRIMARY KEY,
		tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
		e164 TEXT NOT NULL UNIQUE,
		dest_type TEXT NOT NULL CHECK (dest_type IN ('user','hunt_group','call_flow','voicemail','external')),
		dest_id TEXT NOT NULL DEFAULT '',
		dest_number TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL
	);
	CREATE INDEX numbers_tenant ON numbers(tenant_id);
	CREATE INDEX numbers_dest ON numbers(dest_type, dest_id);
	CREATE TABLE user_caller_ids (
		user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
		number_id TEXT NOT NULL REFERENCES numbers(id) ON DELETE CASCADE
	);
	CREATE INDEX user_caller_ids_number ON user_caller_ids(number_id);
	CREATE TABLE user_call_state (
		user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
		last_call_ended_at INTEGER NOT NULL
	);
	CREATE TABLE hunt_groups (
		id TEXT PRIMARY KEY,
		tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		extension TEXT,
		strategy TEXT NOT NULL CHECK (strategy IN ('ring_all','linear','round_robin','longest_idle','random')),
		member_timeout INTEGER NOT NULL,
		timeout INTEGER NOT NULL,
		queue INTEGER NOT NULL DEFAULT 0,
		queue_max_wait INTEGER NOT NULL DEFAULT 0,
		queue_music TEXT NOT NULL DEFAULT '',
		queue_announce_position INTEGER NOT NULL DEFAULT 0,
		overflow_type TEXT NOT NULL,
		overflow_id TEXT NOT NULL DEFAULT '',
		overflow_number TEXT NOT NULL DEFAULT '',
		last_answered_member TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL,
		UNIQUE (tenant_id, extension)
	);
	CREATE INDEX hunt_groups_overflow ON hunt_groups(overflow_type, overflow_id);
	CREATE TABLE hunt_group_members (
		group_id TEXT NOT NULL REFERENCES hunt_groups(id) ON DELETE CASCADE,
		user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
		position INTEGER NOT NULL,
		PRIMARY KEY (group_id, user_id)
	);
	CREATE INDEX hunt_group_members_user ON hunt_group_members(user_id);
	CREATE TABLE call_flows (
		id TEXT PRIMARY KEY,
		tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		current_version INTEGER NOT NULL,
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL
	);
	CREATE INDEX call_flows_tenant ON call_flows(tenant_id);
	CREATE TABLE call_flow_versions (
		flow_id TEXT NOT NULL REFERENCES call_flows(id) ON DELETE CASCADE,
		version INTEGER NOT NULL,
		graph TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		PRIMARY KEY (flow_id, version)
	);
	CREATE TABLE call_flow_refs (
		flow_id TEXT NOT NULL REFERENCES call_flows(id) ON DELETE CASCADE,
		kind TEXT NOT NULL,
		ref_id TEXT NOT NULL,
		PRIMARY KEY (flow_id, kind, ref_id)
	);
	CREATE INDEX call_flow_refs_ref ON call_flow_refs(kind, ref_id);
	CREATE TABLE audio (
		id TEXT PRIMARY KEY,
		tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		duration_ms INTEGER NOT NULL,
		size INTEGER NOT NULL,
		created_at INTEGER NOT NULL
	);
	CREATE INDEX audio_tenant ON audio(tenant_id);`,
	// 6: who placed a call (device, trunk, originate); '' for older records.
	`ALTER TABLE cdrs ADD COLUMN origin TEXT NOT NULL DEFAULT '';`,
	// 7: voicemail: boxes (a full licence's, made when first needed, or a
	// hunt group's), their greetings and messages; a tenant's language
	// (the prompts of boxes and menus whose user has none).
	`ALTER TABLE tenants ADD COLUMN language TEXT NOT NULL DEFAULT '';
	CREATE TABLE voicemail_boxes (
		id TEXT PRIMARY KEY,
		tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
		user_id TEXT UNIQUE REFERENCES users(id) ON DELETE CASCADE,
		group_id TEXT UNIQUE REFERENCES hunt_groups(id) ON DELETE CASCADE,
		language TEXT NOT NULL DEFAULT '',
		pin_hash TEXT NOT NULL DEFAULT '',
		email TEXT NOT NULL DEFAULT '',
		email_notify INTEGER NOT NULL DEFAULT 1,
		max_seconds INTEGER NOT NULL DEFAULT 180,
		created_at INTEGER NOT NULL,
		CHECK ((user_id IS NULL) <> (group_id IS NULL))
	);
	CREATE INDEX voicemail_boxes_tenant ON voicemail_boxes(tenant_id);
	CREATE TABLE voicemail_greetings (
		box_id TEXT NOT NULL REFERENCES voicemail_boxes(id) ON DELETE CASCADE,
		kind TEXT NOT NULL CHECK (kind IN ('unavailable','busy','temporary','name')),
		path TEXT NOT NULL,
		updated_at INTEGER NOT NULL,
		PRIMARY KEY (box_id, kind)
	);
	CREATE TABLE voicemail_messages (
		id TEXT PRIMARY KEY,
		tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
		box_id TEXT NOT NULL REFERENCES voicemail_boxes(id) ON DELETE CASCADE,
		caller TEXT NOT NULL DEFAULT '',
		caller_name TEXT NOT NULL DEFAULT '',
		received_at INTEGER NOT NULL,
		duration_ms INTEGER NOT NULL,
		is_read INTEGER NOT NULL DEFAULT 0,
		path TEXT NOT NULL UNIQUE
	);
	CREATE INDEX voicemail_messages_box ON voicemail_messages(box_id, received_at);`,
	// 8: the call journal: the calls a node has up, written in batches, so
	// that a crash loses no call record (see CallJournal); CDRs found by
	// call id when the journal is recovered.
	`CREATE TABLE call_journal (
		call_id TEXT PRIMARY KEY,
		node TEXT NOT NULL DEFAULT '',
		tenant_id TEXT NOT NULL,
		caller TEXT NOT NULL DEFAULT '',
		callee TEXT NOT NULL DEFAULT '',
		origin TEXT NOT NULL DEFAULT '',
		start_at INTEGER NOT NULL,
		answer_at INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX call_journal_node ON call_journal(node);
	CREATE TABLE node_heartbeats (
		node TEXT PRIMARY KEY,
		seen_at INTEGER NOT NULL
	);
	CREATE INDEX cdrs_call ON cdrs(call_id);`,
	// 9: a tenant's shared contacts (the company directory, and callers'
	// names on incoming calls) with their numbers; what provisioning sets
	// per device beyond its licence: a DECT handset's model, an adapter
	// port that serves a fax.
	`CREATE TABLE contacts (
		id TEXT PRIMARY KEY,
		tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		created_at INTEGER NOT NULL
	);
	CREATE INDEX contacts_tenant ON contacts(tenant_id, name);
	CREATE TABLE contact_numbers (
		contact_id TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
		tenant_id TEXT NOT NULL,
		position INTEGER NOT NULL,
		number TEXT NOT NULL,
		PRIMARY KEY (contact_id, position)
	);
	CREATE INDEX contact_numbers_number ON contact_numbers(tenant_id, number);
	CREATE TABLE device_profiles (
		device_id TEXT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
		tenant_id TEXT NOT NULL,
		handset_model TEXT NOT NULL DEFAULT '',
		fax INTEGER NOT NULL DEFAULT 0
	);`,
	// outbound routes: the trunks calls to public numbers leave through.
	`CREATE TABLE outbound_routes (
		id TEXT PRIMARY KEY,
		prefix TEXT NOT NULL,
		priority INTEGER NOT NULL DEFAULT 0,
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL
	);
	CREATE TABLE outbound_route_trunks (
		route_id TEXT NOT NULL REFERENCES outbound_routes(id) ON DELETE CASCADE,
		trunk_id TEXT NOT NULL REFERENCES trunks(id) ON DELETE CASCADE,
		position INTEGER NOT NULL,
		PRIMARY KEY (route_id, position),
		UNIQUE (route_id, trunk_id)
	);`,
	// caller id and barring: per user, per tenant, and how a trunk is
	// told of a forwarded call's original caller.
	`ALTER TABLE users ADD COLUMN clir INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE users ADD COLUMN reject_anonymous INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE users ADD COLUMN bar_international INTEGER NOT NULL DEFAULT 0;
	CREATE TABLE tenant_calling (
		tenant_id TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
		main_number_id TEXT REFERENCES numbers(id) ON DELETE SET NULL,
		bar_premium INTEGER NOT NULL DEFAULT 1,
		bar_international INTEGER NOT NULL DEFAULT 0,
		updated_at INTEGER NOT NULL
	);
	ALTER TABLE trunks ADD COLUMN forward_identity TEXT NOT NULL DEFAULT 'diversion'
		CHECK (forward_identity IN ('diversion','pai'));
	ALTER TABLE trunks ADD COLUMN response_timeout_ms INTEGER NOT NULL DEFAULT 0;`,
	// Push parameters of a binding (RFC 8599) and its instance (RFC 5626).
	`ALTER TABLE registrations ADD COLUMN instance TEXT NOT NULL DEFAULT '';
	ALTER TABLE registrations ADD COLUMN pn_provider TEXT NOT NULL DEFAULT '';
	ALTER TABLE registrations ADD COLUMN pn_prid TEXT NOT NULL DEFAULT '';
	ALTER TABLE registrations ADD COLUMN pn_param TEXT NOT NULL DEFAULT '';`,
	// Instant messages (SIP MESSAGE) kept for a licence with no device
	// registered, until it registers one or they expire.
	`CREATE TABLE pending_messages (
		id TEXT PRIMARY KEY,
		tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
		user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
		sender TEXT NOT NULL,
		sender_name TEXT NOT NULL DEFAULT '',
		content_type TEXT NOT NULL,
		body BLOB NOT NULL,
		created_at INTEGER NOT NULL,
		expires_at INTEGER NOT NULL
	);
	CREATE INDEX pending_messages_user ON pending_messages(user_id, created_at);
	CREATE INDEX pending_messages_expiry ON pending_messages(expires_at);`,
	// Emergency calls: the location a device sent in its REGISTER (a
	// PIDF-LO document); each tenant's webhook (its secret sealed: it
	// signs); the log of emergency calls with the location sent; the
	// webhook deliveries not yet made, so that they survive a restart.
	`ALTER TABLE registrations ADD COLUMN location TEXT NOT NULL DEFAULT '';
	ALTER TABLE tenants ADD COLUMN webhook_url TEXT NOT NULL DEFAULT '';
	ALTER TABLE tenants ADD COLUMN webhook_secret_enc BLOB;
	CREATE TABLE emergency_calls (
		id TEXT PRIMARY KEY,
		tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
		user_id TEXT NOT NULL DEFAULT '',
		device_id TEXT NOT NULL DEFAULT '',
		call_id TEXT NOT NULL,
		number TEXT NOT NULL,
		class TEXT NOT NULL,
		caller TEXT NOT NULL DEFAULT '',
		trunk_id TEXT NOT NULL DEFAULT '',
		location_source TEXT NOT NULL,
		location TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL
	);
	CREATE INDEX emergency_calls_tenant ON emergency_calls(tenant_id, created_at);
	CREATE TABLE webhook_deliveries (
		id TEXT PRIMARY KEY,
		tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
		event TEXT NOT NULL,
		body TEXT NOT NULL,
		attempts INTEGER NOT NULL DEFAULT 0,
		next_at INTEGER NOT NULL,
		last_error TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL
	);
	CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_at);`,
	// The quality of a call's two legs as the media engine measured it
	// (loss and jitter of what each phone sent, estimated MOS); a MOS of 0
	// is a leg without media.
	`ALTER TABLE cdrs ADD COLUMN caller_loss_percent REAL NOT NULL DEFAULT 0;
	ALTER TABLE cdrs ADD COLUMN caller_jitter_ms REAL NOT NULL DEFAULT 0;
	ALTER TABLE cdrs ADD COLUMN caller_mos REAL NOT NULL DEFAULT 0;
	ALTER TABLE cdrs ADD COLUMN callee_loss_percent REAL NOT NULL DEFAULT 0;
	ALTER TABLE cdrs ADD COLUMN callee_jitter_ms REAL NOT NULL DEFAULT 0;
	ALTER TABLE cdrs ADD COLUMN callee_mos REAL NOT NULL DEFAULT 0;`,
	// The Path (RFC 3327) a binding was registered with: the edge proxies
	// a request to the device must go through, as its Route set ('' when
	// the device registered directly).
	`ALTER TABLE registrations ADD COLUMN path TEXT NOT NULL DEFAULT '';`,
	// The dialog state of each licence's calls on each node of a cluster,
	// so that busy lamps follow calls served by another node.
	`CREATE TABLE user_states (
		user_id TEXT NOT NULL,
		node TEXT NOT NULL,
		state TEXT NOT NULL,
		updated_at INTEGER NOT NULL,
		PRIMARY KEY (user_id, node)
	);
	CREATE INDEX user_states_updated ON user_states(updated_at);`,
	// outbound campaigns: each campaign's settings and state, its contacts
	// with their results and attempts; the platform's do-not-call list
	// (the registry's, replaced whole at each import) and each tenant's
	// own opt-outs.
	`CREATE TABLE campaigns (
		id TEXT PRIMARY KEY,
		tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
		name TEXT NOT NULL,
		mode TEXT NOT NULL CHECK (mode IN ('broadcast','agents')),
		audio_id TEXT NOT NULL DEFAULT '',
		hunt_group_id TEXT NOT NULL DEFAULT '',
		caller_id TEXT NOT NULL DEFAULT '',
		time_zone TEXT NOT NULL,
		hours TEXT NOT NULL,
		max_concurrent INTEGER NOT NULL,
		calls_per_minute INTEGER NOT NULL,
		max_attempts INTEGER NOT NULL,
		retry_after INTEGER NOT NULL,
		ring_timeout INTEGER NOT NULL,
		state TEXT NOT NULL CHECK (state IN ('draft','running','paused','finished')),
		cancelled INTEGER NOT NULL DEFAULT 0,
		created_at INTEGER NOT NULL,
		started_at INTEGER NOT NULL DEFAULT 0,
		finished_at INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX campaigns_tenant ON campaigns(tenant_id, created_at);
	CREATE INDEX campaigns_state ON campaigns(state);
	CREATE TABLE campaign_contacts (
		campaign_id TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
		position INTEGER NOT NULL,
		number TEXT NOT NULL,
		name TEXT NOT NULL DEFAULT '',
		fields TEXT NOT NULL DEFAULT '',
		status TEXT NOT NULL DEFAULT 'pending',
		attempts INTEGER NOT NULL DEFAULT 0,
		next_at INTEGER NOT NULL DEFAULT 0,
		last_at INTEGER NOT NULL DEFAULT 0,
		duration INTEGER NOT NULL DEFAULT 0,
		agent TEXT NOT NULL DEFAULT '',
		PRIMARY KEY (campaign_id, position),
		UNIQUE (campaign_id, number)
	);
	CREATE INDEX campaign_contacts_due ON campaign_contacts(campaign_id, status, next_at);
	CREATE TABLE platform_dnc (
		number TEXT PRIMARY KEY,
		imported_at INTEGER NOT NULL
	);
	CREATE TABLE tenant_dnc (
		tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
		number TEXT NOT NULL,
		source TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL,
		PRIMARY KEY (tenant_id, number)
	);`,
	// Call recording: policies per user, number and hunt group; a
	// tenant's retention and export settings; the recordings, their
	// parties, and an audit of what became of them that outlives them
	// (no foreign key to recordings or tenants on purpose).
	`CREATE TABLE recording_policies (
		tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
		kind TEXT NOT NULL CHECK (kind IN ('user','number','hunt_group')),
		target_id TEXT NOT NULL,
		mode TEXT NOT NULL CHECK (mode IN ('always','on_demand')),
		PRIMARY KEY (kind, target_id)
	);
	CREATE INDEX recording_policies_tenant ON recording_policies(tenant_id);
	CREATE TABLE recording_settings (
		tenant_id TEXT PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
		retention_days INTEGER NOT NULL DEFAULT 90 CHECK (retention_days BETWEEN 1 AND 90),
		announce INTEGER NOT NULL DEFAULT 0,
		toggle_code TEXT NOT NULL DEFAULT '*1',
		export_enabled INTEGER NOT NULL DEFAULT 0,
		export_host TEXT NOT NULL DEFAULT '',
		export_port INTEGER NOT NULL DEFAULT 22,
		export_user TEXT NOT NULL DEFAULT '',
		export_password_enc BLOB,
		export_key_enc BLOB,
		export_host_key TEXT NOT NULL DEFAULT '',
		export_dir TEXT NOT NULL DEFAULT '',
		export_delete_local INTEGER NOT NULL DEFAULT 0,
		updated_at INTEGER NOT NULL
	);
	CREATE TABLE recordings (
		id TEXT PRIMARY KEY,
		tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
		call_id TEXT NOT NULL,
		started_at INTEGER NOT NULL,
		duration_ms INTEGER NOT NULL DEFAULT 0,
		size INTEGER NOT NULL DEFAULT 0,
		sha256 TEXT NOT NULL DEFAULT '',
		expires_at INTEGER NOT NULL,
		state TEXT NOT NULL CHECK (state IN ('recording','complete')),
		repaired INTEGER NOT NULL DEFAULT 0,
		export_state TEXT NOT NULL DEFAULT '' CHECK (export_state IN ('','pending','exported','failed')),
		export_attempts INTEGER NOT NULL DEFAULT 0,
		export_next_at INTEGER NOT NULL DEFAULT 0,
		export_error TEXT NOT NULL DEFAULT '',
		exported_at INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX recordings_tenant ON recordings(tenant_id, started_at);
	CREATE INDEX recordings_expiry ON recordings(expires_at);
	CREATE INDEX recordings_export ON recordings(export_state, export_next_at);
	CREATE TABLE recording_parties (
		recording_id TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
		channel INTEGER NOT NULL,
		name TEXT NOT NULL DEFAULT '',
		number TEXT NOT NULL DEFAULT '',
		user_id TEXT NOT NULL DEFAULT '',
		PRIMARY KEY (recording_id, channel)
	);
	CREATE INDEX recording_parties_number ON recording_parties(number);
	CREATE INDEX recording_parties_user ON recording_parties(user_id);
	CREATE TABLE recording_audit (
		id TEXT PRIMARY KEY,
		tenant_id TEXT NOT NULL,
		recording_id TEXT NOT NULL,
		call_id TEXT NOT NULL DEFAULT '',
		action TEXT NOT NULL,
		reason TEXT NOT NULL DEFAULT '',
		actor TEXT NOT NULL DEFAULT '',
		at INTEGER NOT NULL
	);
	CREATE INDEX recording_audit_tenant ON recording_audit(tenant_id, at);
	CREATE INDEX recording_audit_recording ON recording_audit(recording_id);`,
	// rating: the rate table (micro-euros), the price of each call to the
	// public network (cents; the user and number are kept even once the
	// licence is gone: invoices outlive it), monthly credit limits (user_id
	// '' is the tenant's), toll-fraud blocks (user_id '' blocks the tenant)
	// (kept once lifted: the guard then counts spending since the lift)
	// and the licence and number counts of closed months.
	`CREATE TABLE rates (
		prefix TEXT PRIMARY KEY,
		name TEXT NOT NULL,
		per_minute INTEGER NOT NULL CHECK (per_minute >= 0),
		setup INTEGER NOT NULL DEFAULT 0 CHECK (setup >= 0)
	);
	CREATE TABLE cdr_prices (
		cdr_id TEXT PRIMARY KEY REFERENCES cdrs(id) ON DELETE CASCADE,
		tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
		user_id TEXT NOT NULL DEFAULT '',
		number TEXT NOT NULL,
		class TEXT NOT NULL,
		rate_prefix TEXT NOT NULL DEFAULT '',
		seconds INTEGER NOT NULL,
		cents INTEGER NOT NULL,
		start_at INTEGER NOT NULL
	);
	CREATE INDEX cdr_prices_tenant_start ON cdr_prices(tenant_id, start_at);
	CREATE INDEX cdr_prices_user_start ON cdr_prices(tenant_id, user_id, start_at);
	CREATE TABLE credit_limits (
		tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
		user_id TEXT NOT NULL DEFAULT '',
		cents INTEGER NOT NULL CHECK (cents >= 0),
		auto_restrict INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (tenant_id, user_id)
	);
	CREATE TABLE fraud_blocks (
		tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
		user_id TEXT NOT NULL DEFAULT '',
		reason TEXT NOT NULL,
		blocked_at INTEGER NOT NULL,
		lifted_at INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (tenant_id, user_id)
	);
	CREATE TABLE usage_counts (
		tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
		month TEXT NOT NULL,
		full_licences INTEGER NOT NULL,
		light_licences INTEGER NOT NULL,
		numbers INTEGER NOT NULL,
		PRIMARY KEY (tenant_id, month)
	);`,
	// A site's emergency number (nomadic use), and how a trunk is told
	// which site an emergency call comes from.
	`ALTER TABLE sites ADD COLUMN emergency_number TEXT NOT NULL DEFAULT '';
	ALTER TABLE trunks ADD COLUMN emergency_site_identity TEXT NOT NULL DEFAULT '';`,
	// licences and numbers terminated, kept so that the month they end in
	// is still billed for them.
	`CREATE TABLE terminations (
		tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
		kind TEXT NOT NULL,
		ref_id TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		ended_at INTEGER NOT NULL,
		PRIMARY KEY (kind, ref_id)
	);
	CREATE INDEX terminations_tenant ON terminations(tenant_id, ended_at);`,
}

// overrides replaces, on one dialect, the migration of a version (1-based)
// that cannot be written portably: overrides["postgres"][7] = `...`.
var overrides = map[string]map[int]string{}

// migrationSQL returns the statements of migration version v on dialect d.
func migrationSQL(d dialect, list []string, v int) (string, error) {
	if q, ok := overrides[d.name][v]; ok {
		return q, nil
	}
	return d.ddl(list[v-1])
}

func (s *Store) migrate(ctx context.Context) error {
	table, err := s.d.ddl(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`)
	if err != nil {
		return err
	}
	if _, err := s.w.ExecContext(ctx, table); err != nil {
		return fmt.Errorf("store: migrations table: %w", err)
	}
	var current int
	if err := s.w.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("store: read schema version: %w", err)
	}
	if current > len(migrations) {
		return fmt.Errorf("store: database schema version %d is newer than this binary (%d)", current, len(migrations))
	}
	for v := current + 1; v <= len(migrations); v++ {
		q, err := migrationSQL(s.d, migrations, v)
		if err != nil {
			return fmt.Errorf("store: migration %d: %w", v, err)
		}
		tx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, q); err != nil {
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
