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
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vippskit/vipps/internal/payment"
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
	c  *committer
	r  readPool
}

// Sync is how a commit waits for the disk: SQLite's synchronous setting.
type Sync string

const (
	// SyncFull (the default) waits until a commit is on disk before it is
	// acknowledged, so that nothing acknowledged is lost to a power cut or
	// an operating system crash. Group commit (commit.go) shares each wait
	// among the transactions that came in meanwhile.
	SyncFull Sync = "full"
	// SyncNormal acknowledges a commit once it is in the operating
	// system's hands: a crash of the process loses nothing, but a power cut
	// or an operating system crash can lose the last commits, among them an
	// operation stored before Vipps was called, whose retry would then make
	// a new request. Use it only where the disk's own cache is
	// battery-backed, or where losing the last seconds is acceptable.
	SyncNormal Sync = "normal"
)

// ParseSync reads a Sync setting: "full" or "normal".
func ParseSync(s string) (Sync, error) {
	switch v := Sync(strings.ToLower(strings.TrimSpace(s))); v {
	case SyncFull, SyncNormal:
		return v, nil
	}
	return "", fmt.Errorf("sqlite: synchronous %q is neither full nor normal: use full (the default; nothing acknowledged is lost) or normal (faster; a power cut can lose the last commits)", s)
}

// Options are the settings of [OpenWith]; the zero value is the default.
type Options struct {
	// Sync is how commits wait for the disk; "" means SyncFull.
	Sync Sync
}

// Open opens (creating if need be) the database file at path and applies
// the migrations it lacks. path must name a file: the store opens it
// through two pools, which an in-memory database would not share.
//
// The database holds personal data: a new file is created readable and
// writable by its owner only (0600), and SQLite gives its -wal and -shm
// files the same permissions. Deleted and overwritten content is zeroed
// in the file (secure_delete); see [Store.Scrub] for the WAL.
//
// An error says which file and what to do, such as making its directory
// writable.
func Open(ctx context.Context, path string) (*Store, error) {
	return OpenWith(ctx, path, Options{})
}

// OpenWith is [Open] with opts.
func OpenWith(ctx context.Context, path string, opts Options) (_ *Store, err error) {
	sync := opts.Sync
	if sync == "" {
		sync = SyncFull
	}
	if _, err := ParseSync(string(sync)); err != nil {
		return nil, err
	}
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlite: open: want a file path, got %q", path)
	}
	if err := create(path); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			err = explain(path, err)
		}
	}()
	drv, err := newDriver()
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w := sql.OpenDB(connector{drv, dsn(path, sync, true)})
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s := &Store{w: w, ws: newStmts(w)}
	s.c = newCommitter(s)
	if err := s.Migrate(ctx); err != nil {
		s.c.close()
		w.Close()
		return nil, err
	}
	r := sql.OpenDB(connector{drv, dsn(path, sync, false)})
	// Keep the readers open: opening one costs a schema read and the
	// pragmas, which showed up as a fifth of the service's CPU.
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	if err := r.PingContext(ctx); err != nil {
		s.c.close()
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s.r = readPool{r, newStmts(r)}
	return s, nil
}

// create creates the file at path, 0600, unless it exists, so that SQLite
// does not create it with the umask's permissions, and says what to do
// when it cannot be created or written.
func create(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err == nil {
		return f.Close()
	}
	dir := absDir(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, serr := os.Stat(dir); serr == nil {
			return fmt.Errorf("sqlite: open %s: %v: the directory %s does not take new files: use a file in another directory", path, errors.Unwrap(err), dir)
		}
		return fmt.Errorf("sqlite: open %s: the directory %s does not exist: create it, or use a file in another directory", path, dir)
	case errors.Is(err, syscall.ENOTDIR):
		return fmt.Errorf("sqlite: open %s: a part of the path is a file, not a directory: use a file in a directory", path)
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EROFS):
		return fmt.Errorf("sqlite: open %s: %v: check that this user may write the file and the directory %s (SQLite also creates %s-wal and -shm there)",
			path, errors.Unwrap(err), dir, filepath.Base(path))
	}
	return fmt.Errorf("sqlite: open %s: %w", path, err)
}

// explain adds to err, from opening the database at path, what to do when
// SQLite could not open or write a file: typically the directory is not
// writable, so that SQLite cannot create the -wal and -shm files next to
// the database, or its disk is full.
func explain(path string, err error) error {
	se, ok := errors.AsType[*msqlite.Error](err)
	if !ok {
		return err
	}
	switch se.Code() & 0xff {
	case sqliteCantOpen, sqliteReadOnly, sqlitePerm:
		return fmt.Errorf("%w: SQLite cannot write %s or create its -wal and -shm files: check that this user may write the directory %s and the files",
			err, path, absDir(path))
	case sqliteFull, sqliteIOErr:
		return fmt.Errorf("%w: SQLite cannot write %s or its -wal and -shm files: the disk of %s is full or failing; free space there (df %s) and start again",
			err, path, absDir(path), absDir(path))
	}
	return err
}

// absDir is the directory of path, absolute when it can be had: "." says
// little in an error.
func absDir(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return filepath.Dir(path)
}

// SQLite's primary result codes that explain explains, and those that
// unavailable marks.
const (
	sqlitePerm     = 3
	sqliteBusy     = 5
	sqliteLocked   = 6
	sqliteNoMem    = 7
	sqliteReadOnly = 8
	sqliteIOErr    = 10
	sqliteFull     = 13
	sqliteCantOpen = 14
	sqliteProtocol = 15
)

// unavailable marks err as payment.ErrUnavailable when it says that the
// database could not be used just now rather than that the request was
// wrong: its disk is full, a read or write failed, the file cannot be
// opened or written, another process held its lock past the busy
// timeout, memory ran out, or the store is closing. Such a request may
// succeed when asked again, and the shop is told so (503) instead of an
// internal error.
func unavailable(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, errClosed) {
		return payment.Unavailable(err)
	}
	if se, ok := errors.AsType[*msqlite.Error](err); ok {
		switch se.Code() & 0xff {
		case sqliteBusy, sqliteLocked, sqliteNoMem, sqliteReadOnly, sqliteIOErr, sqliteFull, sqliteCantOpen, sqliteProtocol:
			return payment.Unavailable(err)
		}
	}
	return err
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

// dsn is the driver's name for path: WAL, foreign keys, secure_delete,
// synchronous and a busy timeout on every connection; for the writer,
// IMMEDIATE transactions; for the readers, query_only.
func dsn(path string, sync Sync, writer bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.FormatInt(busyTimeout.Milliseconds(), 10)+")")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous("+strings.ToUpper(string(sync))+")")
	q.Add("_pragma", "secure_delete(1)") // erased personal data is zeroed, not left in free space
	if writer {
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Scrub moves everything in the write-ahead log into the database file
// and truncates the log to nothing (a TRUNCATE checkpoint), so that
// content erased by an Update, such as what a customer shared before
// removing the consent, is left in neither file: secure_delete has zeroed
// it in the database, and the log, which still held the older pages, is
// emptied. It fails, and may be called again, while a reader holds an old
// snapshot of the database.
func (s *Store) Scrub(ctx context.Context) error {
	var busy, logFrames, checkpointed int
	err := s.w.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &checkpointed)
	if err != nil {
		return fmt.Errorf("sqlite: scrub: %w", err)
	}
	if busy != 0 {
		return fmt.Errorf("sqlite: scrub: a reader kept the write-ahead log from being emptied (%d of %d frames moved); try again", checkpointed, logFrames)
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.c.close()
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
// if f returns nil, together with the write transactions that came in
// meanwhile (see commit.go). It returns once the commit is done: nil when
// f's work is stored, else f's error or the commit's.
func (s *Store) tx(ctx context.Context, f func(tx writeTx) error) error {
	return s.c.tx(ctx, f)
}

func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}
