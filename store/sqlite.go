package store

import (
	"database/sql"
	"net/url"
	"strings"

	"modernc.org/sqlite"
)

// openSQLite opens the database file at path: one writer connection (SQLite
// serialises writes anyway; BEGIN IMMEDIATE takes the write lock up front)
// and a pool of readers beside it (WAL). Each connection keeps its
// statements compiled (stmtcache.go) and reads the database file through a
// memory map: in WAL mode a connection discards its page cache whenever
// another has written, and with bindings and call records written many
// times a second every read would otherwise copy its pages in again with a
// system call each.
func openSQLite(path string) (w, r *sql.DB, gens *tableGens, err error) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "foreign_keys(1)", "busy_timeout(10000)", "synchronous(NORMAL)", "mmap_size(1073741824)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	// A URI file name: "%", "?" and "#" in the path are escaped, or the
	// driver would read a query or a fragment there.
	dsn := "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path) + "?" + q.Encode()
	drv := &sqlite.Driver{}
	gens = newTableGens()
	w = sql.OpenDB(stmtCacheConnector{drv: drv, dsn: dsn, gens: gens})
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	r = sql.OpenDB(stmtCacheConnector{drv: drv, dsn: dsn, gens: gens})
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	return w, r, gens, nil
}
