package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	msqlite "modernc.org/sqlite"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// busyTimeout is how long a connection waits for another process's lock
// before SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// readers bounds the read pool: enough for the service's concurrency, few
// enough that idle connections stay open.
const readers = 16

// Store is a [payment.Store] on one SQLite database file. It is safe for
// concurrent use.
type Store struct {
	w  *sql.DB // one connection: all writes, in IMMEDIATE transactions
	ws *stmts  // the writer's prepared statements
	r  readPool
}

// Open opens (creating if need be) the database file at path and applies
// the migrations it lacks. path must name a file: the store opens it
// through two pools, which an in-memory database would not share.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlite: open: want a file path, got %q", path)
	}
	drv, err := newDriver()
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w := sql.OpenDB(connector{drv, dsn(path, true)})
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &Store{w: w, ws: newStmts(w)}
	if err := s.Migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	r := sql.OpenDB(connector{drv, dsn(path, false)})
	// Keep the readers open: opening one costs a schema read and the
	// pragmas, which showed up as a fifth of the service's CPU.
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s.r = readPool{r, newStmts(r)}
	return s, nil
}

// foldFunc is the SQL function that folds text to lower case, all of
// Unicode (SQLite's lower and LIKE fold ASCII only): List's Query matches
// "Ærlig" with "ærl".
const foldFunc = "vipps_fold"

// newDriver returns a driver of the store's own, not the one registered as
// "sqlite", so that its function reaches this store's connections only.
func newDriver() (*msqlite.Driver, error) {
	drv := &msqlite.Driver{}
	err := drv.RegisterDeterministicScalarFunction(foldFunc, 1, func(_ *msqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case string:
			return strings.ToLower(v), nil
		case []byte:
			return strings.ToLower(string(v)), nil
		}
		return args[0], nil
	})
	return drv, err
}

// connector opens connections to dsn through the store's driver.
type connector struct {
	drv *msqlite.Driver
	dsn string
}

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c.drv.Open(c.dsn)
}

func (c connector) Driver() driver.Driver { return c.drv }

// dsn is the driver's name for path: WAL, foreign keys and a busy timeout
// on every connection; for the writer, IMMEDIATE transactions; for the
// readers, query_only.
func dsn(path string, writer bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.FormatInt(busyTimeout.Milliseconds(), 10)+")")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if writer {
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Close closes the database.
func (s *Store) Close() error {
	var errs []error
	if s.r.DB != nil {
		errs = append(errs, s.r.stmts.close(), s.r.Close())
	}
	return errors.Join(append(errs, s.ws.close(), s.w.Close())...)
}

// migration is one numbered file of migrations/.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in order.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number and _", e.Name())
		}
		b, err := migrationFS.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: want number %d", m.name, i+1)
		}
	}
	return ms, nil
}

// Migrate applies the migrations the database lacks, in order, in one
// transaction. It fails when the database has a migration this program
// does not know: a newer program has used it. It is safe to call again.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return s.migrate(ctx, ms)
}

// migrate applies those of ms, the migrations in order, that the database
// lacks.
func (s *Store) migrate(ctx context.Context, ms []migration) error {
	err := s.tx(ctx, func(tx writeTx) error {
		// Migrations run unprepared (tx.Tx): they run once, and a script
		// of many statements cannot be prepared.
		if _, err := tx.Tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_at INTEGER NOT NULL
		) STRICT`); err != nil {
			return err
		}
		var have int
		if err := tx.Tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
			return err
		}
		if have > len(ms) {
			return fmt.Errorf("database schema version %d is newer than this program's %d; use a newer program", have, len(ms))
		}
		for _, m := range ms[have:] {
			if _, err := tx.Tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
			if _, err := tx.Tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, time.Now().UnixMicro()); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// tx runs f in a write transaction, which begins IMMEDIATE, and commits it
// if f returns nil. Then it prepares the queries that f ran unprepared.
func (s *Store) tx(ctx context.Context, f func(tx writeTx) error) error {
	defer s.ws.preparePending(context.WithoutCancel(ctx))
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(writeTx{tx, s.ws}); err != nil {
		return errors.Join(err, ignoreDone(tx.Rollback()))
	}
	return tx.Commit()
}

func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}
