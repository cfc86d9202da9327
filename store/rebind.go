package store

import (
	"context"
	"database/sql/driver"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5/stdlib"
)

// The store's SQL marks parameters with "?" (SQLite's and database/sql's
// usual style); PostgreSQL wants "$1", "$2", .... Rather than rewrite each
// query at each call site, the PostgreSQL connections are wrapped below the
// database/sql layer: every statement text is rewritten once, cached, and
// handed to pgx. Callers keep using *sql.DB, *sql.Tx and *sql.Stmt as they
// are; prepared statements (the REGISTER path) are rewritten once when
// prepared, and the SQLite connections are not wrapped at all.

// rebinder rewrites "?" placeholders to "$n" and remembers the results.
type rebinder struct {
	cache sync.Map // statement text -> rewritten text
	size  atomic.Int64
}

// maxRebindCache bounds the cache: the store's statement texts are constants
// (plus a few variants built from them), far fewer than this; a caller that
// built statements from data would otherwise grow it without end.
const maxRebindCache = 4096

func (r *rebinder) rebind(q string) string {
	if v, ok := r.cache.Load(q); ok {
		return v.(string)
	}
	out := rebindQuery(q)
	if r.size.Load() < maxRebindCache {
		if _, loaded := r.cache.LoadOrStore(q, out); !loaded {
			r.size.Add(1)
		}
	}
	return out
}

// rebindQuery numbers the "?" of q outside string literals, quoted
// identifiers and comments.
func rebindQuery(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			j := skipQuoted(q, i, c)
			b.WriteString(q[i:j])
			i = j - 1
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				j = len(q) - i
			}
			b.WriteString(q[i : i+j])
			i += j - 1
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			j := strings.Index(q[i+2:], "*/")
			end := len(q)
			if j >= 0 {
				end = i + 2 + j + 2
			}
			b.WriteString(q[i:end])
			i = end - 1
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// skipQuoted returns the index just past the quoted text starting at q[i]
// (a doubled quote character is an escaped one).
func skipQuoted(q string, i int, quote byte) int {
	for j := i + 1; j < len(q); j++ {
		if q[j] == quote {
			if j+1 < len(q) && q[j+1] == quote {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(q)
}

// rebindConnector hands out pgx connections whose statement texts are
// rebound first.
type rebindConnector struct {
	driver.Connector
	r *rebinder
}

func (c rebindConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	pc, ok := conn.(*stdlib.Conn)
	if !ok {
		conn.Close()
		return nil, errUnexpectedConn
	}
	return rebindConn{Conn: pc, r: c.r}, nil
}

// rebindConn is a pgx connection (every optional driver interface of
// *stdlib.Conn is promoted) that rewrites statement texts.
type rebindConn struct {
	*stdlib.Conn
	r *rebinder
}

func (c rebindConn) Prepare(q string) (driver.Stmt, error) { return c.Conn.Prepare(c.r.rebind(q)) }

func (c rebindConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(ctx, c.r.rebind(q))
}

func (c rebindConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.ExecContext(ctx, c.r.rebind(q), args)
}

func (c rebindConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.QueryContext(ctx, c.r.rebind(q), args)
}
