package store

import (
	"database/sql"
	"fmt"
	"net/url"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// openSQLite opens the database file at path: one writer connection (SQLite
// serialises writes anyway; BEGIN IMMEDIATE takes the write lock up front)
// and a pool of readers beside it (WAL).
func openSQLite(path string) (w, r *sql.DB, err error) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "foreign_keys(1)", "busy_timeout(10000)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()
	w, err = sql.Open("sqlite", dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	r, err = sql.Open("sqlite", dsn)
	if err != nil {
		w.Close()
		return nil, nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	return w, r, nil
}
