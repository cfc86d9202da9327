package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// A dialect is what differs between the SQL engines the store runs on. The
// queries themselves are written once, in the portable subset described in
// migrate.go; what a dialect changes is how a connection is opened (sqlite.go,
// postgres.go), how "?" placeholders reach the engine (rebind.go, PostgreSQL
// only), how a portable migration becomes its DDL, and the isolation of write
// transactions.
type dialect struct {
	name string // "sqlite" or "postgres": the key of migration overrides
	// ddl turns a portable migration into this engine's DDL.
	ddl func(string) (string, error)
	// txOptions of write transactions (nil: the engine's default).
	txOptions *sql.TxOptions
}

var errUnexpectedConn = errors.New("store: unexpected driver connection type")

var sqliteDialect = dialect{name: "sqlite", ddl: func(q string) (string, error) { return q, nil }}

// postgresDialect runs write transactions SERIALIZABLE: a transaction that
// reads before it writes (a licence's device limit, the last active licence)
// must see no concurrent change, which SQLite gives by serialising writers
// and PostgreSQL gives this way across connections and nodes.
var postgresDialect = dialect{name: "postgres", ddl: postgresDDL, txOptions: &sql.TxOptions{Isolation: sql.LevelSerializable}}

// postgresTypes maps the portable column types to PostgreSQL's. INTEGER is
// 64-bit in SQLite (times are stored in Unix milliseconds); TEXT compares and
// sorts byte-wise in SQLite, hence the "C" collation.
var postgresTypes = map[string]string{
	"INTEGER": "BIGINT",
	"BLOB":    "BYTEA",
	"REAL":    "DOUBLE PRECISION",
	"TEXT":    `TEXT COLLATE "C"`,
}

// sqliteOnly are words of SQLite's dialect that have no translation: a
// migration using them needs a PostgreSQL override.
var sqliteOnly = map[string]bool{"AUTOINCREMENT": true, "PRAGMA": true, "ROWID": true, "WITHOUT": true, "GLOB": true}

// postgresDDL translates a portable migration word by word, leaving string
// literals, quoted identifiers and comments alone. "AS TEXT" (a CAST) keeps
// its type: a collation is not part of a type name there.
func postgresDDL(q string) (string, error) {
	var b strings.Builder
	prev := ""
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			j := skipQuoted(q, i, c)
			b.WriteString(q[i:j])
			i = j
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i
			}
			b.WriteString(q[i : i+j])
			i += j
		case isWordByte(c):
			j := i
			for j < len(q) && isWordByte(q[j]) {
				j++
			}
			w := strings.ToUpper(q[i:j])
			if sqliteOnly[w] {
				return "", fmt.Errorf("%s is SQLite-only: give this migration a postgres override", w)
			}
			if t, ok := postgresTypes[w]; ok && !(w == "TEXT" && prev == "AS") {
				b.WriteString(t)
			} else {
				b.WriteString(q[i:j])
			}
			prev = w
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), nil
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// isUnique reports whether err is a violated UNIQUE or PRIMARY KEY
// constraint, on either engine.
func isUnique(err error) bool {
	if err == nil {
		return false
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" // unique_violation
}

// isForeignKey reports whether err is a violated foreign key (a row refers
// to one that does not exist), on either engine.
func isForeignKey(err error) bool {
	if err == nil {
		return false
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23503" // foreign_key_violation
}

// isSerialization reports whether a PostgreSQL transaction lost a race with
// a concurrent one and may simply be run again.
func isSerialization(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01") // serialization_failure, deadlock_detected
}
