package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func openSQLiteTest(t *testing.T) *Store {
	s, _ := openSQLiteTestAt(t)
	return s
}

func openSQLiteTestAt(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pbx.db")
	s, err := Open(context.Background(), Options{Path: path, SecretKey: testKey()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// cachedCount is the number of statements the connection keeps compiled.
func cachedCount(t *testing.T, c *sql.Conn) int {
	t.Helper()
	n := -1
	if err := c.Raw(func(dc any) error {
		sc, ok := dc.(*stmtCacheConn)
		if !ok {
			return fmt.Errorf("connection is a %T, not a statement-caching one", dc)
		}
		n = len(sc.stmts)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// A statement is compiled once per connection and run again; the same text
// used again while rows of it are still open (a loop over a query running
// the same query) gets a statement of its own and both read the right rows.
func TestSQLiteStatementsCompiledOnce(t *testing.T) {
	s := openSQLiteTest(t)
	ctx := context.Background()
	c, err := s.w.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, "CREATE TABLE cachetest (n INTEGER PRIMARY KEY, v TEXT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	const insert = "INSERT INTO cachetest (n, v) VALUES (?, ?)"
	for i := range 5 {
		if _, err := c.ExecContext(ctx, insert, i, fmt.Sprintf("v%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	before := cachedCount(t, c)
	for range 3 {
		if _, err := c.ExecContext(ctx, insert+" ON CONFLICT (n) DO NOTHING", 1, "x"); err != nil {
			t.Fatal(err)
		}
	}
	if got := cachedCount(t, c); got != before+1 {
		t.Fatalf("three runs of one new statement added %d compiled statements, want 1", got-before)
	}

	const sel = "SELECT v FROM cachetest WHERE n >= ? ORDER BY n"
	outer, err := c.QueryContext(ctx, sel, 3)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for outer.Next() {
		var v string
		if err := outer.Scan(&v); err != nil {
			t.Fatal(err)
		}
		// The same text while the outer rows are open.
		var inner []string
		rows, err := c.QueryContext(ctx, sel, 0)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var w string
			if err := rows.Scan(&w); err != nil {
				t.Fatal(err)
			}
			inner = append(inner, w)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		if len(inner) != 5 {
			t.Fatalf("nested query read %v, want 5 rows", inner)
		}
		got = append(got, v)
	}
	if err := outer.Close(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[v3 v4]" {
		t.Fatalf("outer query read %v, want [v3 v4]", got)
	}
	// Closed rows give the statement back: it is used again, with new
	// arguments, and an error in a cached statement leaves it usable.
	var v string
	if err := c.QueryRowContext(ctx, sel, 4).Scan(&v); err != nil || v != "v4" {
		t.Fatalf("reused statement read %q, %v; want v4", v, err)
	}
	if _, err := c.ExecContext(ctx, insert, 1, "dup"); err == nil {
		t.Fatal("duplicate key inserted")
	}
	if _, err := c.ExecContext(ctx, insert, 9, "v9"); err != nil {
		t.Fatalf("statement unusable after a failed run: %v", err)
	}
}

// A database whose path holds the characters of a URI's query and
// fragment is opened at that path, not at a shortened one.
func TestSQLitePathWithURICharacters(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a#1.db", "a?2.db", "a%3.db"} {
		path := filepath.Join(dir, name)
		s, err := Open(context.Background(), Options{Path: path, SecretKey: testKey()})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		if _, err := os.Stat(path); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
