package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// maxStmts bounds each pool's prepared statements. The store has a few
// dozen queries (List builds one per combination of filters); a query past
// the bound runs unprepared.
const maxStmts = 256

// stmts keeps one prepared statement per query text on a pool, so that
// SQLite parses each query once instead of on every call: parsing was a
// fifth of the service's CPU.
//
// The writer pool has one connection, which a write transaction holds, so
// a query first seen in a transaction cannot be prepared on the pool then:
// it runs unprepared, and is prepared after the transaction ends.
type stmts struct {
	db      *sql.DB
	max     int // maxStmts; tests lower it
	mu      sync.Mutex
	m       map[string]*sql.Stmt
	pending map[string]bool // seen in a write transaction, not yet prepared
}

func newStmts(db *sql.DB) *stmts {
	return &stmts{db: db, max: maxStmts, m: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

// lookup returns the statement prepared for query, or nil.
func (c *stmts) lookup(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[query]
}

// get returns the statement for query, preparing it if need be; nil (run
// the query unprepared) when the cache is full or preparing failed.
// Callers must not hold one of the pool's connections.
func (c *stmts) get(ctx context.Context, query string) *sql.Stmt {
	if st := c.lookup(query); st != nil {
		return st
	}
	c.mu.Lock()
	full := len(c.m) >= c.max
	c.mu.Unlock()
	if full {
		return nil
	}
	// Prepare without the lock: preparing waits for a connection.
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		// The unprepared query will report the error.
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if have := c.m[query]; have != nil {
		st.Close()
		return have
	}
	c.m[query] = st
	return st
}

// later notes query to be prepared by preparePending.
func (c *stmts) later(query string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m)+len(c.pending) < c.max {
		c.pending[query] = true
	}
}

// preparePending prepares the queries noted by later.
func (c *stmts) preparePending(ctx context.Context) {
	c.mu.Lock()
	var qs []string
	for q := range c.pending {
		qs = append(qs, q)
	}
	clear(c.pending)
	c.mu.Unlock()
	for _, q := range qs {
		c.get(ctx, q)
	}
}

// close closes the statements.
func (c *stmts) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for q, st := range c.m {
		errs = append(errs, st.Close())
		delete(c.m, q)
	}
	return errors.Join(errs...)
}

// readPool runs queries on the read pool through prepared statements.
type readPool struct {
	*sql.DB
	stmts *stmts
}

func (r readPool) QueryContext(ctx context.Context, query string, args ...any) (rowSet, error) {
	if st := r.stmts.get(ctx, query); st != nil {
		return marked(st.QueryContext(ctx, args...))
	}
	return marked(r.DB.QueryContext(ctx, query, args...))
}

func (r readPool) QueryRowContext(ctx context.Context, query string, args ...any) markedRow {
	if st := r.stmts.get(ctx, query); st != nil {
		return markedRow{st.QueryRowContext(ctx, args...)}
	}
	return markedRow{r.DB.QueryRowContext(ctx, query, args...)}
}

// readTx is a read transaction of the read pool, its errors marked as the
// pool's.
type readTx struct{ *sql.Tx }

func (t readTx) QueryContext(ctx context.Context, query string, args ...any) (rowSet, error) {
	return marked(t.Tx.QueryContext(ctx, query, args...))
}

// rowSet is the rows of a query: *sql.Rows, or the read pool's
// markedRows.
type rowSet interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// marked is the result of a read's query with its errors, and those of
// its rows, marked by unavailable: a read of the rows can fail as their
// query can.
func marked(rs *sql.Rows, err error) (rowSet, error) {
	if err != nil {
		return nil, unavailable(err)
	}
	return markedRows{rs}, nil
}

// markedRows are rows of a read (see marked).
type markedRows struct{ *sql.Rows }

func (r markedRows) Scan(dest ...any) error { return unavailable(r.Rows.Scan(dest...)) }
func (r markedRows) Err() error             { return unavailable(r.Rows.Err()) }

// markedRow is a single row of the read pool, its error marked by
// unavailable.
type markedRow struct{ r *sql.Row }

func (r markedRow) Scan(dest ...any) error { return unavailable(r.r.Scan(dest...)) }

// writeTx is a write transaction whose queries run through the writer's
// prepared statements. Tx is the transaction itself, for statements that
// must not be kept (migrations: a script of many statements).
//
// Its statements run to the end whatever their context says: SQLite rolls
// back the whole transaction when a statement in it is interrupted, and
// the transaction is shared by a batch of callers (commit.go), so that one
// caller giving up must not undo the others' work.
type writeTx struct {
	Tx    *sql.Tx
	stmts *stmts
}

// stmt returns the transaction's form of the query's prepared statement,
// or nil (and notes the query for preparing) if there is none yet.
func (t writeTx) stmt(ctx context.Context, query string) *sql.Stmt {
	ctx = context.WithoutCancel(ctx)
	if st := t.stmts.lookup(query); st != nil {
		return t.Tx.StmtContext(ctx, st)
	}
	t.stmts.later(query)
	return nil
}

func (t writeTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = context.WithoutCancel(ctx)
	if st := t.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

// QueryContext runs a query in the transaction; the committer marks its
// errors, as every error of a write transaction.
func (t writeTx) QueryContext(ctx context.Context, query string, args ...any) (rowSet, error) {
	ctx = context.WithoutCancel(ctx)
	var rs *sql.Rows
	var err error
	if st := t.stmt(ctx, query); st != nil {
		rs, err = st.QueryContext(ctx, args...)
	} else {
		rs, err = t.Tx.QueryContext(ctx, query, args...)
	}
	if err != nil {
		return nil, err // not a nil *sql.Rows in a rowSet
	}
	return rs, nil
}

func (t writeTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = context.WithoutCancel(ctx)
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}
