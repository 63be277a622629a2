package main

import (
	"context"
	"io"
	"net/url"
	"strings"

	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/postgres"
	"github.com/vippskit/vipps/internal/sqlite"
)

// defaultDatabase is the SQLite file used when no -database is given.
const defaultDatabase = "vipps.db"

// defineDatabase defines -database, the payment service's database.
func defineDatabase(fs *flagSet, p *string) {
	fs.stringEnv(p, "database", defaultDatabase, "VIPPS_DATABASE", "SQLite `file` or PostgreSQL URL (postgres://...)")
}

// openStore opens the payment store in database, a SQLite file or a
// PostgreSQL URL, and brings its schema up to date. The closer closes it.
func openStore(ctx context.Context, database string) (payment.Store, io.Closer, error) {
	if isPostgres(database) {
		pg, err := postgres.Open(ctx, database)
		if err != nil {
			return nil, nil, err
		}
		return pg, pgCloser{pg}, nil
	}
	sq, err := sqlite.Open(ctx, database)
	if err != nil {
		return nil, nil, err
	}
	return sq, sq, nil
}

// pgCloser is a PostgreSQL store as an io.Closer.
type pgCloser struct{ *postgres.Store }

func (p pgCloser) Close() error { p.Store.Close(); return nil }

// isPostgres reports whether database names a PostgreSQL database rather
// than a SQLite file.
func isPostgres(database string) bool {
	return strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://")
}

// redactDSN hides the password of a database URL.
func redactDSN(database string) string {
	if !isPostgres(database) {
		return database
	}
	u, err := url.Parse(database)
	if err != nil {
		return "postgres://[unparsable URL]"
	}
	return u.Redacted()
}
