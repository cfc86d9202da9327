package store

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// tableGens counts the committed writes to each table of a SQLite database,
// for the read cache (readcache.go): a cached value read from some tables
// is good while none of their counts has moved. The counts are kept below
// database/sql, by the connections (stmtcache.go), from the text of every
// statement they run, so no write method can forget to tell the cache: a
// statement that writes tables it cannot name (a schema change, a text it
// cannot read) moves every count.
type tableGens struct {
	mu  sync.RWMutex
	m   map[string]*atomic.Uint64
	all atomic.Uint64 // moves every table's count
	// cascades lists, per table, the tables whose rows a delete in it
	// deletes or changes through foreign keys (ON DELETE CASCADE or SET
	// NULL), transitively; set once at Open, before any other use.
	cascades map[string][]string
}

func newTableGens() *tableGens { return &tableGens{m: map[string]*atomic.Uint64{}} }

func (g *tableGens) counter(table string) *atomic.Uint64 {
	g.mu.RLock()
	c := g.m[table]
	g.mu.RUnlock()
	if c != nil {
		return c
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if c = g.m[table]; c == nil {
		c = new(atomic.Uint64)
		g.m[table] = c
	}
	return c
}

// bump records a committed write to tables; w.all, to all tables.
func (g *tableGens) bump(w written) {
	if w.all {
		g.all.Add(1)
		return
	}
	for _, t := range w.tables {
		g.counter(t).Add(1)
		if w.delete {
			for _, c := range g.cascades[t] {
				g.counter(c).Add(1)
			}
		}
	}
}

// readCascades reads the foreign keys of the schema into g.cascades.
func (g *tableGens) readCascades(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		return err
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	children := map[string][]string{} // parent -> tables referencing it
	for _, t := range tables {
		fks, err := db.QueryContext(ctx, `SELECT "table" FROM pragma_foreign_key_list(?)`, t)
		if err != nil {
			return err
		}
		for fks.Next() {
			var parent string
			if err := fks.Scan(&parent); err != nil {
				fks.Close()
				return err
			}
			children[strings.ToLower(parent)] = append(children[strings.ToLower(parent)], strings.ToLower(t))
		}
		fks.Close()
		if err := fks.Err(); err != nil {
			return err
		}
	}
	// Every table below a parent, whatever the action: RESTRICT and NO
	// ACTION would have failed the delete, which costs a cache miss.
	g.cascades = map[string][]string{}
	for parent := range children {
		seen := map[string]bool{parent: true}
		stack := slices.Clone(children[parent])
		for len(stack) > 0 {
			c := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[c] {
				continue
			}
			seen[c] = true
			g.cascades[parent] = append(g.cascades[parent], c)
			stack = append(stack, children[c]...)
		}
	}
	return nil
}

// sum is a number that grows whenever one of tables is written. Read it
// before the database, so that a write committed during the read leaves
// the value cached under an old sum.
func (g *tableGens) sum(tables []string) uint64 {
	s := g.all.Load()
	for _, t := range tables {
		s += g.counter(t).Load()
	}
	return s
}

// written is what a statement writes: nothing, some tables, or anything.
type written struct {
	tables []string
	all    bool
	delete bool // a DELETE: the tables' foreign-key children change too
}

func (w written) none() bool { return !w.all && len(w.tables) == 0 }

// writtenCache remembers what each statement text writes.
var writtenCache sync.Map // string -> written

// writtenBy reads which tables statement q writes: the name after INSERT
// [OR ...] INTO, REPLACE INTO, UPDATE [OR ...] and DELETE FROM. Statements
// that change the schema, and writes whose table it cannot find, write
// "all". The store's SQL is its own (constants and variants built from
// them), so texts are few; the cache stops growing past maxRebindCache.
func writtenBy(q string) written {
	if v, ok := writtenCache.Load(q); ok {
		return v.(written)
	}
	w := parseWritten(q)
	if writtenSize.Load() < maxRebindCache {
		if _, loaded := writtenCache.LoadOrStore(q, w); !loaded {
			writtenSize.Add(1)
		}
	}
	return w
}

var writtenSize atomic.Int64

func parseWritten(q string) written {
	toks := strings.FieldsFunc(strings.ToLower(q), func(r rune) bool {
		return !(r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
	var w written
	add := func(i int) {
		if i >= len(toks) {
			w.all = true
			return
		}
		w.tables = append(w.tables, toks[i])
	}
	for i, t := range toks {
		switch t {
		case "create", "drop", "alter", "vacuum", "pragma", "attach":
			return written{all: true}
		case "into": // INSERT [OR x] INTO t, REPLACE INTO t
			add(i + 1)
		case "replace": // replaces a conflicting row: deletes it first
			w.delete = true
		case "update":
			// UPDATE [OR x] t SET; not ON CONFLICT ... DO UPDATE SET.
			j := i + 1
			if j < len(toks) && toks[j] == "or" {
				j += 2
			}
			if j < len(toks) && toks[j] == "set" {
				continue
			}
			add(j)
		case "delete": // DELETE FROM t
			w.delete = true
			add(i + 2)
		}
	}
	return w
}
