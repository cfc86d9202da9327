package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"pbx/internal/pgtest"
)

// The store's tests are a contract every engine must keep: each runs on
// SQLite and on PostgreSQL (a real server, see pbx/internal/pgtest).

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// testDB is an empty database of one dialect, which a test may open (and
// reopen) as often as it likes.
type testDB struct {
	dialect string
	opt     Options
}

func testKey() []byte {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i)
	}
	return key
}

// open opens the database; the store is closed when t ends unless the test
// closed it first.
func (d testDB) open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), d.opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// forEachDialect runs fn as one subtest per engine, each on a fresh database.
func forEachDialect(t *testing.T, fn func(t *testing.T, db testDB)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, testDB{dialect: "sqlite", opt: Options{Path: filepath.Join(t.TempDir(), "pbx.db"), SecretKey: testKey()}})
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, testDB{dialect: "postgres", opt: Options{URL: pgtest.Database(t), SecretKey: testKey()}})
	})
}

// forEachStore runs fn on an open store of each engine.
func forEachStore(t *testing.T, fn func(t *testing.T, s *Store)) {
	forEachDialect(t, func(t *testing.T, db testDB) { fn(t, db.open(t)) })
}
