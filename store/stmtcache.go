package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"sync/atomic"
)

// The SQLite driver compiles a statement's text every time database/sql
// runs it (db.QueryContext, tx.ExecContext ... prepare, run, finalise), and
// compiling costs more than running the store's short queries: on the call
// path it was about a third of the database's CPU. The SQLite connections
// are therefore wrapped below database/sql, as the PostgreSQL ones are for
// placeholders (rebind.go): each connection keeps its statements compiled,
// by text, and runs them again with new arguments. pgx keeps its own cache.

// maxCachedStmts bounds the statements one connection keeps compiled: the
// store's texts are constants (and a few variants built from them), fewer
// than this; texts past the bound are compiled for each use, as before.
const maxCachedStmts = 256

// stmtCacheConnector hands out SQLite connections with a statement cache.
type stmtCacheConnector struct {
	drv  driver.Driver
	dsn  string
	gens *tableGens // told of every committed write
}

func (c stmtCacheConnector) Driver() driver.Driver { return c.drv }

func (c stmtCacheConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	inner, ok := conn.(sqliteConn)
	if !ok {
		conn.Close()
		return nil, errUnexpectedConn
	}
	return &stmtCacheConn{sqliteConn: inner, stmts: map[string]*cachedStmt{}, gens: c.gens}, nil
}

// sqliteConn is what the SQLite driver's connection implements and the
// wrapper passes on.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.QueryerContext
	driver.ExecerContext
	driver.SessionResetter
	driver.Validator
	driver.Pinger
}

// stmtCacheConn is a SQLite connection that keeps its statements compiled.
// database/sql uses a connection from one goroutine at a time.
type stmtCacheConn struct {
	sqliteConn
	stmts map[string]*cachedStmt
	gens  *tableGens
	// In a transaction, the writes are told when it ends.
	inTx    bool
	pending []written
}

// wrote tells the table counts of a write, now or when the transaction
// ends. A failed statement is told too: telling too often costs a cache
// miss, never a stale read.
func (c *stmtCacheConn) wrote(w written) {
	switch {
	case w.none():
	case c.inTx:
		c.pending = append(c.pending, w)
	default:
		c.gens.bump(w)
	}
}

// wroteResult is wrote for a statement run with Exec: one that changed no
// row (an UPDATE or DELETE matching nothing, an INSERT that met its
// conflict clause) changed no table, nor any through its foreign keys; a
// schema change reports no rows and is told whatever its result.
func (c *stmtCacheConn) wroteResult(w written, res driver.Result, err error) {
	if err == nil && !w.all {
		if n, e := res.RowsAffected(); e == nil && n == 0 {
			return
		}
	}
	c.wrote(w)
}

func (c *stmtCacheConn) endTx() {
	for _, w := range c.pending {
		c.gens.bump(w)
	}
	c.pending = c.pending[:0]
	c.inTx = false
}

func (c *stmtCacheConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.sqliteConn.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	c.inTx = true
	return genTx{Tx: tx, c: c}, nil
}

// genTx tells the transaction's writes once it has ended.
type genTx struct {
	driver.Tx
	c *stmtCacheConn
}

func (t genTx) Commit() error {
	defer t.c.endTx()
	return t.Tx.Commit()
}

func (t genTx) Rollback() error {
	defer t.c.endTx()
	return t.Tx.Rollback()
}

// PrepareContext prepares a statement whose runs are told to the table
// counts.
func (c *stmtCacheConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	st, err := c.sqliteConn.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	sc, ok := st.(stmtContext)
	if !ok {
		st.Close()
		return nil, errUnexpectedConn
	}
	return genStmt{stmtContext: sc, c: c, w: writtenBy(q)}, nil
}

type genStmt struct {
	stmtContext
	c *stmtCacheConn
	w written
}

func (s genStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	res, err := s.stmtContext.ExecContext(ctx, args)
	s.c.wroteResult(s.w, res, err)
	return res, err
}

func (s genStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	defer s.c.wrote(s.w)
	return s.stmtContext.QueryContext(ctx, args)
}

// cachedStmt is a compiled statement and whether rows of it are open: the
// SQLite statement is the cursor, so a second use while rows of the first
// are read (a query nested in a loop over the same query, in one
// transaction) compiles a statement of its own.
type cachedStmt struct {
	st   stmtContext
	busy atomic.Bool
}

type stmtContext interface {
	driver.Stmt
	driver.StmtQueryContext
	driver.StmtExecContext
}

// stmt returns the cached statement of q, compiling it on first use; nil
// when q is not to be cached (the bound is reached, or it does not compile
// to a statement that runs alone: the caller's path reports the error).
func (c *stmtCacheConn) stmt(ctx context.Context, q string) *cachedStmt {
	if cs, ok := c.stmts[q]; ok {
		return cs
	}
	if len(c.stmts) >= maxCachedStmts {
		return nil
	}
	st, err := c.sqliteConn.PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	// (the connection's own PrepareContext, not the wrapper's: runs are
	// told by QueryContext and ExecContext)
	sc, ok := st.(stmtContext)
	if !ok {
		st.Close()
		return nil
	}
	cs := &cachedStmt{st: sc}
	c.stmts[q] = cs
	return cs
}

func (c *stmtCacheConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	defer c.wrote(writtenBy(q))
	cs := c.stmt(ctx, q)
	if cs == nil || !cs.busy.CompareAndSwap(false, true) {
		return c.sqliteConn.QueryContext(ctx, q, args)
	}
	rows, err := cs.st.QueryContext(ctx, args)
	if err != nil {
		cs.busy.Store(false)
		return nil, err
	}
	return &cachedRows{Rows: rows, cs: cs}, nil
}

func (c *stmtCacheConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (res driver.Result, err error) {
	defer func() { c.wroteResult(writtenBy(q), res, err) }()
	cs := c.stmt(ctx, q)
	if cs == nil || !cs.busy.CompareAndSwap(false, true) {
		return c.sqliteConn.ExecContext(ctx, q, args)
	}
	defer cs.busy.Store(false)
	return cs.st.ExecContext(ctx, args)
}

// Close finalises the cached statements, then closes the connection.
func (c *stmtCacheConn) Close() error {
	var errs []error
	for q, cs := range c.stmts {
		errs = append(errs, cs.st.Close())
		delete(c.stmts, q)
	}
	return errors.Join(append(errs, c.sqliteConn.Close())...)
}

// cachedRows gives its statement back when closed.
type cachedRows struct {
	driver.Rows
	cs *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.cs.busy.Store(false)
	return err
}
