package store

import (
	"database/sql"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// IsPostgresURL reports whether db names a PostgreSQL database
// (postgres://... or postgresql://...).
func IsPostgresURL(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// RedactURL returns a database URL fit for a log: without its password.
func RedactURL(db string) string {
	u, err := url.Parse(db)
	if err != nil {
		return "(unparsable database URL)"
	}
	return u.Redacted()
}

// openPostgres connects to the database at dsn through pgx (database/sql
// mode), with "?" placeholders rebound. Writes go through a pool of their
// own, kept small: the registrar batches bindings into few transactions, and
// readers must not wait behind writers for a connection.
func openPostgres(dsn string) (w, r *sql.DB, err error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("store: database URL %s: %w", RedactURL(dsn), err)
	}
	rb := &rebinder{}
	open := func(conns int) *sql.DB {
		db := sql.OpenDB(rebindConnector{Connector: stdlib.GetConnector(*cfg), r: rb})
		db.SetMaxOpenConns(conns)
		db.SetMaxIdleConns(conns)
		return db
	}
	return open(4), open(8), nil
}
