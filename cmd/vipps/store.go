package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"

	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/postgres"
	"github.com/vippskit/vipps/internal/sqlite"
	"github.com/vippskit/vipps/internal/staff"
)

// defaultDatabase is the SQLite file used when no -database is given.
const defaultDatabase = "vipps.db"

// defineDatabase defines -database, the payment service's database.
func defineDatabase(fs *flagSet, p *string) {
	fs.stringEnv(p, "database", defaultDatabase, "VIPPS_DATABASE",
		"SQLite `file` (a path or file:path) or PostgreSQL URL (postgres://... or postgresql://...)")
}

// database is where -database points.
type database struct {
	postgres bool
	// where is the SQLite file's path, or the PostgreSQL URL or key=value
	// DSN as given.
	where string
	// sync is how SQLite's commits wait for the disk (-sqlite-sync).
	sync sqlite.Sync
}

// schemeRE matches a URL scheme of two or more letters, so that a Windows
// path such as C:\vipps.db is still a path.
var schemeRE = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]+):`)

// keyValueRE matches a PostgreSQL key=value DSN ("host=db dbname=shop").
var keyValueRE = regexp.MustCompile(`^\s*(host|hostaddr|port|dbname|user|password|sslmode|service|connect_timeout)\s*=`)

// parseDatabase says what -database names: a SQLite file path, a file:
// URL of one, or a PostgreSQL URL or key=value DSN. Any other URL scheme
// is an error, never a file name.
func parseDatabase(s string) (database, error) {
	if keyValueRE.MatchString(s) {
		return database{postgres: true, where: s}, nil
	}
	m := schemeRE.FindStringSubmatch(s)
	if m == nil {
		if s == "" {
			return database{}, fmt.Errorf("-database (or VIPPS_DATABASE) is empty: name a SQLite file such as %s or a postgres:// URL", defaultDatabase)
		}
		return database{where: s}, nil
	}
	switch strings.ToLower(m[1]) {
	case "postgres", "postgresql":
		return database{postgres: true, where: s}, nil
	case "file":
		u, err := url.Parse(s)
		if err != nil {
			return database{}, fmt.Errorf("-database %q: %v", redact(s), err)
		}
		if u.RawQuery != "" || (u.Host != "" && u.Host != "localhost") {
			return database{}, fmt.Errorf("-database %q: a file: URL takes a path only, such as file:vipps.db or file:///var/lib/vipps/vipps.db", redact(s))
		}
		path := cmp.Or(u.Path, u.Opaque)
		if path == "" {
			return database{}, fmt.Errorf("-database %q names no file", s)
		}
		return database{where: path}, nil
	}
	return database{}, fmt.Errorf("-database %q has the unknown scheme %q: use a SQLite file path (vipps.db), a file: URL (file:vipps.db) or a PostgreSQL URL (postgres:// or postgresql://)",
		redact(s), m[1]+":")
}

// store is what the service keeps in its database: payments and staff.
type store interface {
	payment.Store
	staff.Store
}

// openStore opens the payment store db and brings its schema up to date.
// The closer closes it.
func openStore(ctx context.Context, db database) (store, io.Closer, error) {
	if db.postgres {
		pg, err := postgres.Open(ctx, db.where)
		if err != nil {
			return nil, nil, err
		}
		return pg, pgCloser{pg}, nil
	}
	sq, err := sqlite.OpenWith(ctx, db.where, sqlite.Options{Sync: db.sync})
	if err != nil {
		return nil, nil, err
	}
	return sq, sq, nil
}

// pgCloser is a PostgreSQL store as an io.Closer.
type pgCloser struct{ *postgres.Store }

func (p pgCloser) Close() error { p.Store.Close(); return nil }
