// Package store owns everything the softswitch keeps on disk: tenants, sites,
// users (licences), devices, registrations (contact bindings), API tokens, BLF
// keys, call detail records, carrier trunks, public numbers, hunt groups,
// versioned call flows and the description of audio files. It imports nothing else of the project; callers
// define the small interfaces they need and *Store satisfies them.
//
// The default engine is SQLite (modernc.org/sqlite, pure Go) in WAL mode with
// foreign keys on; PostgreSQL (pgx) serves when Options.URL names one. Both run
// the same queries and the same versioned migrations, applied at start-up: the
// SQL is written once in a portable subset (see migrate.go) and what differs
// between the engines is kept in a dialect (dialect.go).
//
// On SQLite the connections keep their statements compiled and count the
// writes of each table (stmtcache.go, tablegen.go), so that the reads every
// call makes are answered from memory until a table they come from is
// written (readcache.go); the small writes of every call share their
// transactions (groupcommit.go).
package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// Errors returned by the store. Callers match them with errors.Is.
var (
	ErrNotFound   = errors.New("not found")
	ErrConflict   = errors.New("conflict")
	ErrLimit      = errors.New("licence device limit reached")
	ErrLastActive = errors.New("a tenant must keep at least one active licence")
)

// Options configure Open.
type Options struct {
	// Path of the SQLite database file; ":memory:" is not supported because
	// readers and the writer use separate connections.
	Path string
	// URL of a PostgreSQL database (postgres://user:pass@host/db?...); when
	// set, the store runs on it and Path is not used.
	URL string
	// SecretKey is the 32-byte AES-256-GCM key that encrypts device SIP
	// passwords at rest.
	SecretKey []byte
}

// Store is the database of the softswitch, on SQLite or PostgreSQL.
type Store struct {
	w    *sql.DB // writers (one connection on SQLite: it serialises writes anyway)
	r    *sql.DB // pool of readers (WAL lets them run beside the SQLite writer)
	d    dialect
	aead cipher.AEAD

	// Statements of the REGISTER hot path, prepared once: parsing SQL costs
	// more than running these queries.
	stDeviceAuth, stDeviceRegistration, stDeviceBindings, stUpsertBinding, stDeleteBinding, stRefreshBinding *sql.Stmt

	regGen atomic.Uint64 // see RegistrationGeneration

	trunks trunkCache   // source matcher of TrunkBySource
	cache  readCache    // hot reads of the call path (SQLite only)
	group  *groupCommit // the small writes of every call
}

// Open opens (creating if needed) the database and applies migrations.
func Open(ctx context.Context, opt Options) (*Store, error) {
	if opt.Path == "" && opt.URL == "" {
		return nil, errors.New("store: empty database path")
	}
	if opt.URL != "" && !IsPostgresURL(opt.URL) {
		return nil, fmt.Errorf("store: database URL %s: want postgres:// or postgresql://", RedactURL(opt.URL))
	}
	if len(opt.SecretKey) != 32 {
		return nil, fmt.Errorf("store: secret key must be 32 bytes, got %d", len(opt.SecretKey))
	}
	block, err := aes.NewCipher(opt.SecretKey)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	d := sqliteDialect
	var w, r *sql.DB
	var gens *tableGens
	if opt.URL != "" {
		d = postgresDialect
		w, r, err = openPostgres(opt.URL)
	} else {
		w, r, gens, err = openSQLite(opt.Path)
	}
	if err != nil {
		return nil, err
	}
	s := &Store{w: w, r: r, d: d, aead: aead, cache: readCache{gens: gens}}
	s.group = newGroupCommit(s)
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if gens != nil {
		if err := gens.readCascades(ctx, r); err != nil {
			s.Close()
			return nil, fmt.Errorf("store: read foreign keys: %w", err)
		}
	}
	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) prepare(ctx context.Context) error {
	var err error
	prep := func(db *sql.DB, q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = db.PrepareContext(ctx, q)
		return st
	}
	s.stDeviceAuth = prep(s.r, deviceAuthQuery)
	s.stDeviceRegistration = prep(s.r, deviceRegistrationQuery)
	s.stDeviceBindings = prep(s.r, deviceBindingsQuery)
	s.stUpsertBinding = prep(s.w, upsertBindingQuery)
	s.stDeleteBinding = prep(s.w, deleteBindingQuery)
	s.stRefreshBinding = prep(s.w, refreshBindingQuery)
	if err != nil {
		return fmt.Errorf("store: prepare: %w", err)
	}
	return nil
}

// Close closes every connection. Pending writes have completed when it returns.
func (s *Store) Close() error {
	s.group.wait()
	for _, st := range []*sql.Stmt{s.stDeviceAuth, s.stDeviceRegistration, s.stDeviceBindings, s.stUpsertBinding, s.stDeleteBinding, s.stRefreshBinding} {
		if st != nil {
			st.Close()
		}
	}
	return errors.Join(s.w.Close(), s.r.Close())
}

// Ping checks the database answers (used by /healthz).
func (s *Store) Ping(ctx context.Context) error { return s.r.PingContext(ctx) }

// NewID returns a random identifier with the given prefix, e.g. "ten_3f9a...".
func NewID(prefix string) string {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return prefix + "_" + hex.EncodeToString(b[:])
}

func (s *Store) encrypt(plain string) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return s.aead.Seal(nonce, nonce, []byte(plain), nil), nil
}

func (s *Store) decrypt(sealed []byte) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return "", errors.New("store: sealed secret too short")
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], nil)
	if err != nil {
		return "", fmt.Errorf("store: decrypt secret: %w", err)
	}
	return string(plain), nil
}

// tx runs fn in a write transaction, rolling back on error. On PostgreSQL a
// transaction that lost a race with a concurrent one (serialisation failure)
// is run again: fn must do nothing but run its queries.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.tx1(ctx, fn)
		if err == nil || attempt == maxTxAttempts || !isSerialization(err) || ctx.Err() != nil {
			return err
		}
	}
}

// maxTxAttempts bounds the reruns of a write transaction that keeps losing.
const maxTxAttempts = 20

func (s *Store) tx1(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, s.d.txOptions)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func timeOrZero(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(v, 0).UTC()
}

func nullStr(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// collect scans every row with scan; it closes rows.
func collect[T any](scan func(interface{ Scan(...any) error }) (T, error)) func(*sql.Rows, error) ([]T, error) {
	return func(rows *sql.Rows, err error) ([]T, error) {
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []T
		for rows.Next() {
			v, err := scan(rows)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, rows.Err()
	}
}
