package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/vippskit/vipps/internal/postgres"
	"github.com/vippskit/vipps/internal/sqlite"
)

const migrateDoc = `usage: vipps migrate [flags]

Migrate brings the payment service's database schema up to date: it
applies the embedded migrations that the database does not have yet, in
order, and does nothing when it is current. "vipps serve" does the same at
start; run migrate to do it ahead of a deploy. Several replicas on one
PostgreSQL database may start (or migrate) at once: the migrations run
once, under a lock.

-database is a SQLite file path (created when missing) or a PostgreSQL
URL (postgres://user:password@host:5432/db?sslmode=disable).

flags:
`

// defaultDatabase is the SQLite file used when no -database is given.
const defaultDatabase = "vipps.db"

func runMigrate(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), migrateDoc)
		fs.PrintDefaults()
	}
	def := defaultDatabase
	if v := e.getenv("VIPPS_DATABASE"); v != "" {
		def = v
	}
	database := fs.String("database", def, "SQLite file or PostgreSQL `URL` (environment VIPPS_DATABASE)")
	fs.SetOutput(io.Discard) // parse errors are reported once, as usage errors
	err := fs.Parse(args)
	fs.SetOutput(e.stdout)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		return err
	case err != nil:
		return &usageError{cmd: "migrate", err: err}
	case fs.NArg() > 0:
		return &usageError{cmd: "migrate", err: fmt.Errorf("unexpected arguments %q", fs.Args())}
	case *database == "":
		return &usageError{cmd: "migrate", err: errors.New("-database (or VIPPS_DATABASE) is empty")}
	}
	name := redactDSN(*database)
	if isPostgres(*database) {
		st, err := postgres.Open(ctx, *database)
		if err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
		st.Close()
	} else {
		st, err := sqlite.Open(ctx, *database)
		if err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
		if err := st.Close(); err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
	}
	fmt.Fprintf(e.stdout, "database %s: schema up to date\n", name)
	return nil
}

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
