package store

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unsafe"
)

func TestRebindQuery(t *testing.T) {
	for in, want := range map[string]string{
		`SELECT 1`: `SELECT 1`,
		`DELETE FROM r WHERE a = ? AND (b = ? OR ? = '*')`: `DELETE FROM r WHERE a = $1 AND (b = $2 OR $3 = '*')`,
		`SELECT '?', "a?b", ? -- what?` + "\n" + `, ?`:     `SELECT '?', "a?b", $1 -- what?` + "\n" + `, $2`,
		`SELECT 'it''s ?', ? /* ? */, ?`:                   `SELECT 'it''s ?', $1 /* ? */, $2`,
	} {
		if got := rebindQuery(in); got != want {
			t.Errorf("rebindQuery(%q) = %q, want %q", in, got, want)
		}
	}
}

// The rewriting happens once per statement text: a second call returns the
// cached string itself, and the cache stops growing at its bound.
func TestRebinderCache(t *testing.T) {
	var r rebinder
	q := strings.Repeat("x", 3) + " = ?"
	a := r.rebind(q)
	b := r.rebind(q)
	if a != "xxx = $1" || r.size.Load() != 1 || !sameString(a, b) {
		t.Fatalf("rebind: %q %q size %d", a, b, r.size.Load())
	}
	for i := 0; i < maxRebindCache+10; i++ {
		r.rebind("SELECT ? -- " + strings.Repeat("y", i))
	}
	if n := r.size.Load(); n != maxRebindCache {
		t.Fatalf("cache holds %d statements, bound %d", n, maxRebindCache)
	}
	if got := r.rebind("SELECT ?, ? -- beyond"); got != "SELECT $1, $2 -- beyond" {
		t.Fatalf("past the bound: %q", got)
	}
}

// sameString reports whether a and b share their bytes (b came from the cache).
func sameString(a, b string) bool { return unsafe.StringData(a) == unsafe.StringData(b) }

func TestPostgresDDL(t *testing.T) {
	got, err := postgresDDL(`CREATE TABLE t (id TEXT PRIMARY KEY, n integer NOT NULL DEFAULT 0, b BLOB, x REAL,
		note TEXT NOT NULL DEFAULT 'an INTEGER of TEXT', "Text" TEXT); -- BLOB stays in a comment
		UPDATE t SET note = CAST(n AS TEXT);`)
	want := `CREATE TABLE t (id TEXT COLLATE "C" PRIMARY KEY, n BIGINT NOT NULL DEFAULT 0, b BYTEA, x DOUBLE PRECISION,
		note TEXT COLLATE "C" NOT NULL DEFAULT 'an INTEGER of TEXT', "Text" TEXT COLLATE "C"); -- BLOB stays in a comment
		UPDATE t SET note = CAST(n AS TEXT);`
	if err != nil || got != want {
		t.Fatalf("postgresDDL:\n%s\nwant\n%s\n(%v)", got, want, err)
	}
	if _, err := postgresDDL(`CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT)`); err == nil {
		t.Fatal("AUTOINCREMENT translated")
	}
}

func TestMigrationOverride(t *testing.T) {
	list := []string{`CREATE TABLE a (x INTEGER)`, `CREATE TABLE b (id INTEGER PRIMARY KEY AUTOINCREMENT)`}
	overrides["postgres"] = map[int]string{2: `CREATE TABLE b (id BIGSERIAL PRIMARY KEY)`}
	defer delete(overrides, "postgres")
	for _, c := range []struct {
		d    dialect
		v    int
		want string
	}{
		{sqliteDialect, 1, `CREATE TABLE a (x INTEGER)`},
		{postgresDialect, 1, `CREATE TABLE a (x BIGINT)`},
		{sqliteDialect, 2, list[1]},
		{postgresDialect, 2, `CREATE TABLE b (id BIGSERIAL PRIMARY KEY)`},
	} {
		if got, err := migrationSQL(c.d, list, c.v); err != nil || got != c.want {
			t.Errorf("%s migration %d = %q, %v; want %q", c.d.name, c.v, got, err, c.want)
		}
	}
	// The published migrations translate as they are.
	for v := range migrations {
		if _, err := migrationSQL(postgresDialect, migrations, v+1); err != nil {
			t.Errorf("migration %d: %v", v+1, err)
		}
	}
}

// TestPortableSource keeps SQLite-only idioms out of the store's code: they
// would pass the SQLite tests and fail on PostgreSQL only where a test
// happens to reach them.
func TestPortableSource(t *testing.T) {
	bad := regexp.MustCompile(`(?i)INSERT\s+OR\s+(IGNORE|REPLACE)|err\.Error\(\)|IFNULL\(|strftime\(|\bLIKE\b|\bGLOB\b|\b(MAX|MIN)\([^()]*,`)
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "dialect.go" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "//") {
				continue
			}
			if m := bad.FindString(line); m != "" {
				t.Errorf("%s:%d: %q is not portable (see migrate.go)", f, i+1, m)
			}
		}
	}
}
